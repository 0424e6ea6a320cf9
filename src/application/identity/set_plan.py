"""SetPlan: move a user to another plan."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.config import IdentityConfig
from application.identity.principal import Principal
from application.identity.user_lookup import find_user, require_admin
from application.ports.unit_of_work import UnitOfWork
from domain.users import User


@dataclass(frozen=True, slots=True)
class SetPlanCommand:
    user: UUID | str
    plan: str
    actor: Principal | None = None


class SetPlan:
    """Business rules: admins and the operator only; the plan must be a configured one;
    applies from the user's next request (the plan is re-read per request)."""

    def __init__(self, uow: UnitOfWork, config: IdentityConfig) -> None:
        self._uow = uow
        self._config = config

    async def __call__(self, command: SetPlanCommand) -> User:
        require_admin(command.actor)
        async with self._uow as uow:
            user = await find_user(uow, command.user)
            user.change_plan(command.plan, self._config.plans)
            await uow.users.save(user)
            await uow.commit()
        return user
