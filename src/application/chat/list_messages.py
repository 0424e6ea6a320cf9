"""List the messages of one of the caller's conversations, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.chat.get_conversation import owned_conversation
from application.ports.unit_of_work import UnitOfWork
from domain.messages import Message
from domain.pagination import Page, page_size


@dataclass(frozen=True, slots=True)
class ListMessagesQuery:
    owner_id: UUID
    conversation_id: UUID
    limit: int | None = None
    cursor: str | None = None


class ListMessages:
    """Business rules: only the owner reads them (anyone else: "not found"); oldest first;
    ``limit`` defaults to 20 and is capped at 100."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: ListMessagesQuery) -> Page[Message]:
        async with self._uow as uow:
            await owned_conversation(uow, query.owner_id, query.conversation_id)
            return await uow.messages.page(
                query.conversation_id, limit=page_size(query.limit), cursor=query.cursor
            )
