"""UpdateMe: change the caller's own profile."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.principal import Principal
from application.ports.unit_of_work import UnitOfWork
from domain.users import User, UserNotFound


@dataclass(frozen=True, slots=True)
class UpdateMeCommand:
    principal: Principal
    display_name: str | None = None


class UpdateMe:
    """Business rules:
    - only the display name can change here; role, plan and email are not settable by
      their owner: there is simply no field for them in the command;
    - an omitted display name leaves it unchanged; a blank one resets it to the email's
      local part.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, command: UpdateMeCommand) -> User:
        async with self._uow as uow:
            user = await uow.users.get(command.principal.user_id)
            if user is None:
                raise UserNotFound("the account no longer exists")
            if command.display_name is not None:
                user.rename(command.display_name)
                await uow.users.save(user)
                await uow.commit()
        return user
