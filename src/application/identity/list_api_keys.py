"""ListApiKeys: the caller's keys, a page at a time (never the secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.principal import Principal
from application.ports.unit_of_work import UnitOfWork
from domain.api_keys import ApiKey


@dataclass(frozen=True, slots=True)
class ListApiKeysQuery:
    principal: Principal
    limit: int = 20
    after: UUID | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyPage:
    items: list[ApiKey]
    next_after: UUID | None


class ListApiKeys:
    """Business rules: only the caller's own keys, oldest first; ``limit`` is capped at 100."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: ListApiKeysQuery) -> ApiKeyPage:
        limit = max(1, min(query.limit, 100))
        async with self._uow as uow:
            keys = await uow.api_keys.list_for_user(
                query.principal.user_id, limit=limit + 1, after=query.after
            )
        more = len(keys) > limit
        items = keys[:limit]
        return ApiKeyPage(items=items, next_after=items[-1].id if more else None)
