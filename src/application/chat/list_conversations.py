"""List the caller's conversations, newest activity first."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.unit_of_work import UnitOfWork
from domain.conversations import Conversation
from domain.errors import InvalidInput
from domain.pagination import Page, page_size

MAX_QUERY_CHARS = 200


@dataclass(frozen=True, slots=True)
class ListConversationsQuery:
    owner_id: UUID
    limit: int | None = None
    cursor: str | None = None
    q: str | None = None
    archived: bool | None = None


class ListConversations:
    """Business rules:
    - only the caller's conversations, most recently active first;
    - ``limit`` defaults to 20 and is capped at 100;
    - ``q`` matches the title or any message, case-insensitively (a plain filter; search
      proper lives in /api/v1/search); ``archived`` filters by the flag when given.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: ListConversationsQuery) -> Page[Conversation]:
        text = (query.q or "").strip() or None
        if text is not None and len(text) > MAX_QUERY_CHARS:
            raise InvalidInput(f"q is longer than {MAX_QUERY_CHARS} characters")
        async with self._uow as uow:
            return await uow.conversations.page(
                query.owner_id,
                limit=page_size(query.limit),
                cursor=query.cursor,
                query=text,
                archived=query.archived,
            )
