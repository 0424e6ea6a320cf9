"""Register: create an account and sign it in."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.config import IdentityConfig
from application.identity.session_tokens import SessionTokens, TokenPair
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work import UnitOfWork
from domain.errors import Conflict
from domain.passwords import check_password
from domain.users import EmailTaken, User, clean_display_name, normalise_email


@dataclass(frozen=True, slots=True)
class RegisterCommand:
    email: str
    password: str
    display_name: str | None = None


class Register:
    """Business rules:
    - the email is normalised (trimmed, lowercase) and must look like an address;
    - the password follows the policy (8..128 characters, not a common password);
    - a new account always gets role ``user`` and the default plan: clients cannot pick;
    - one account per email (EMAIL_TAKEN, also when two registrations race);
    - the new user is signed in at once: a new session and its token pair.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: SessionTokens,
        clock: Clock,
        ids: IdGenerator,
        config: IdentityConfig,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._ids = ids
        self._config = config

    async def __call__(self, command: RegisterCommand) -> TokenPair:
        email = normalise_email(command.email)
        display_name = clean_display_name(command.display_name, email)
        check_password(command.password, email=email)
        password_hash = await self._hasher.hash(command.password)  # slow: outside the tx
        user = User(
            id=self._ids.new_id(),
            email=email,
            display_name=display_name,
            role="user",
            plan=self._config.default_plan,
            is_active=True,
            password_hash=password_hash,
            created_at=self._clock.now(),
        )
        session = self._tokens.new_session(user)
        try:
            async with self._uow as uow:
                if await uow.users.get_by_email(email) is not None:
                    raise EmailTaken("an account with this email already exists")
                await uow.users.add(user)
                await uow.auth_sessions.add(session)
                await uow.commit()
        except Conflict as exc:  # a concurrent registration won the unique index
            raise EmailTaken("an account with this email already exists") from exc
        return self._tokens.pair(user, session)
