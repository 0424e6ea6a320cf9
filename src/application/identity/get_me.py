"""GetMe: the caller's own account."""

from __future__ import annotations

from application.identity.principal import Principal
from application.ports.unit_of_work import UnitOfWork
from domain.users import User, UserNotFound


class GetMe:
    """Business rules: a caller sees only their own account."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> User:
        async with self._uow as uow:
            user = await uow.users.get(principal.user_id)
        if user is None:
            raise UserNotFound("the account no longer exists")
        return user
