"""ListUsers: every account, a page at a time (admin, CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.principal import Principal
from application.identity.user_lookup import require_admin
from application.ports.unit_of_work import UnitOfWork
from domain.users import User


@dataclass(frozen=True, slots=True)
class ListUsersQuery:
    limit: int = 20
    after: UUID | None = None
    actor: Principal | None = None


@dataclass(frozen=True, slots=True)
class UserPage:
    items: list[User]
    next_after: UUID | None


class ListUsers:
    """Business rules: admins and the operator only; oldest first; ``limit`` capped at 1000
    (the CLI pages through everyone)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: ListUsersQuery) -> UserPage:
        require_admin(query.actor)
        limit = max(1, min(query.limit, 1000))
        async with self._uow as uow:
            users = await uow.users.list(limit=limit + 1, after=query.after)
        items = users[:limit]
        return UserPage(items=items, next_after=items[-1].id if len(users) > limit else None)
