"""SetRole: promote or demote a user."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.principal import Principal
from application.identity.user_lookup import find_user, require_admin
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
    - takes effect at the target's next request: every request re-reads the user's role
      (see Authenticate), so no token needs to be revoked.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, command: SetRoleCommand) -> User:
        require_admin(command.actor)
        async with self._uow as uow:
            user = await find_user(uow, command.user)
            user.change_role(command.role)
            await uow.users.save(user)
            await uow.commit()
        return user
