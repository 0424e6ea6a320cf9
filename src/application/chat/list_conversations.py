"""List the caller's conversations, newest activity first."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.text_search import TextSearch
from application.ports.unit_of_work import UnitOfWork
from domain.conversations import Conversation
from domain.errors import InvalidInput
from domain.pagination import Page, page_size
from domain.text import refuse_nul

MAX_QUERY_CHARS = 200
TEXT_MATCH_LIMIT = 1000


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

    def __init__(self, uow: UnitOfWork, text_search: TextSearch) -> None:
        self._uow = uow
        self._text_search = text_search

    async def __call__(self, query: ListConversationsQuery) -> Page[Conversation]:
        refuse_nul(query.q, "q")
        text = (query.q or "").strip() or None
        if text is not None and len(text) > MAX_QUERY_CHARS:
            raise InvalidInput(f"q is longer than {MAX_QUERY_CHARS} characters")
        matches = None
        if text is not None:  # messages match by full-text search (stemmed words)
            matches = await self._text_search.matching_conversations(
                query.owner_id, text, TEXT_MATCH_LIMIT
            )
        async with self._uow as uow:
            return await uow.conversations.page(
                query.owner_id,
                limit=page_size(query.limit),
                cursor=query.cursor,
                query=text,
                archived=query.archived,
                message_matches=matches,
            )
