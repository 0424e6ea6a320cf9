"""What chat tells the rest of the system when messages change (search indexing, ...).

Chat calls these after the change is committed; implementations must not raise into chat
(an indexing failure never fails a reply) and must not delay the reply.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol
from uuid import UUID


class MessageHooks(Protocol):
    @abstractmethod
    async def message_saved(
        self, *, message_id: UUID, conversation_id: UUID, owner_id: UUID, role: str, content: str
    ) -> None: ...

    @abstractmethod
    async def conversation_deleted(self, *, conversation_id: UUID, owner_id: UUID) -> None: ...


class NoMessageHooks(MessageHooks):
    """Default until search is wired: nothing listens."""

    async def message_saved(
        self, *, message_id: UUID, conversation_id: UUID, owner_id: UUID, role: str, content: str
    ) -> None:
        return None

    async def conversation_deleted(self, *, conversation_id: UUID, owner_id: UUID) -> None:
        return None
