"""Chat's MessageHooks, served by search: hand the work to the indexing queue and return."""

from __future__ import annotations

from uuid import UUID

from application.ports.message_hooks import MessageHooks
from application.ports.message_vectors import MessageToIndex
from application.search.indexing_queue import ForgetConversation, IndexingQueue


class SearchIndexingHooks(MessageHooks):
    """Never awaits embedding or storage: a reply is never delayed or failed by indexing."""

    def __init__(self, queue: IndexingQueue) -> None:
        self._queue = queue

    async def message_saved(
        self, *, message_id: UUID, conversation_id: UUID, owner_id: UUID, role: str, content: str
    ) -> None:
        self._queue.submit(MessageToIndex(message_id, conversation_id, owner_id, role, content))

    async def conversation_deleted(self, *, conversation_id: UUID, owner_id: UUID) -> None:
        self._queue.submit(ForgetConversation(conversation_id, owner_id))
