"""CreateUser: an operator or admin creates an account with a chosen role and plan."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.config import IdentityConfig
from application.identity.principal import Principal
from application.identity.user_lookup import require_admin
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work import UnitOfWork
from domain.errors import Conflict
from domain.passwords import check_password
from domain.users import (
    EmailTaken,
    User,
    check_plan,
    check_role,
    clean_display_name,
    normalise_email,
)


@dataclass(frozen=True, slots=True)
class CreateUserCommand:
    email: str
    password: str
    role: str = "user"
    plan: str | None = None
    display_name: str | None = None
    actor: Principal | None = None


class CreateUser:
    """Business rules:
    - only an admin (or the operator at the CLI) may create accounts this way;
    - the same email and password rules as registration; role is user|admin and the plan
      one of the configured plans (default plan when omitted);
    - one account per email (EMAIL_TAKEN).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        clock: Clock,
        ids: IdGenerator,
        config: IdentityConfig,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._ids = ids
        self._config = config

    async def __call__(self, command: CreateUserCommand) -> User:
        require_admin(command.actor)
        email = normalise_email(command.email)
        user = User(
            id=self._ids.new_id(),
            email=email,
            display_name=clean_display_name(command.display_name, email),
            role=check_role(command.role),
            plan=check_plan(command.plan or self._config.default_plan, self._config.plans),
            is_active=True,
            password_hash="",
            created_at=self._clock.now(),
        )
        check_password(command.password, email=email)
        user.password_hash = await self._hasher.hash(command.password)
        try:
            async with self._uow as uow:
                if await uow.users.get_by_email(email) is not None:
                    raise EmailTaken("an account with this email already exists")
                await uow.users.add(user)
                await uow.commit()
        except Conflict as exc:  # a concurrent creation won the unique index
            raise EmailTaken("an account with this email already exists") from exc
        return user
