"""SetPlan: move a user to another plan."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.config import IdentityConfig
from application.identity.principal import Principal
from application.identity.user_lookup import find_user, require_admin
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.users import User


@dataclass(frozen=True, slots=True)
class SetPlanCommand:
    user: UUID | str
    plan: str
    actor: Principal | None = None


class SetPlan:
    """Business rules: admins and the operator only; the plan must be a configured one;
    applies from the user's next request on every instance (the identity epoch is bumped,
    so cached views of the plan are reloaded)."""

    def __init__(self, uow: UnitOfWork, config: IdentityConfig, store: TokenStore) -> None:
        self._uow = uow
        self._config = config
        self._store = store

    async def __call__(self, command: SetPlanCommand) -> User:
        require_admin(command.actor)
        async with self._uow as uow:
            user = await find_user(uow, command.user)
            user.change_plan(command.plan, self._config.plans)
            await uow.users.save(user)
            # Epoch bumped before the commit (no store, no change: 503) and after it, so no
            # instance can keep a view it loaded in between (see Authenticate).
            await self._store.bump_identity_epoch(user.id)
            await uow.commit()
        await self._store.bump_identity_epoch(user.id)
        return user
