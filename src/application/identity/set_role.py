"""SetRole: promote or demote a user."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.principal import Principal
from application.identity.user_lookup import find_user, require_admin
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.users import User


@dataclass(frozen=True, slots=True)
class SetRoleCommand:
    user: UUID | str
    role: str
    actor: Principal | None = None


class SetRole:
    """Business rules:
    - admins and the operator only; the role is user|admin;
    - takes effect at the target's next request on every instance: the user's identity
      epoch is bumped, so cached views of the role are reloaded (see Authenticate); no
      token needs to be revoked.
    """

    def __init__(self, uow: UnitOfWork, store: TokenStore) -> None:
        self._uow = uow
        self._store = store

    async def __call__(self, command: SetRoleCommand) -> User:
        require_admin(command.actor)
        async with self._uow as uow:
            user = await find_user(uow, command.user)
            user.change_role(command.role)
            await uow.users.save(user)
            # Epoch bumped before the commit (no store, no change: 503) and after it, so no
            # instance can keep a view it loaded in between (see Authenticate).
            await self._store.bump_identity_epoch(user.id)
            await uow.commit()
        await self._store.bump_identity_epoch(user.id)
        return user
