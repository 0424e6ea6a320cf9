"""FindUserByEmail: the account an operator's tool (CLI, scripts) names by email."""

from __future__ import annotations

from application.identity.user_lookup import find_user
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.users import User


class FindUserByEmail:
    """Business rules:
    - an email names at most one account, compared as stored (trimmed, lower case);
    - no such account is USER_NOT_FOUND, whatever the tool.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, email: str) -> User:
        async with self._uow_factory() as uow:
            return await find_user(uow, email)
