"""Chat's MessageHooks, served by search: hand the work to the indexing queue and return."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from uuid import UUID

import structlog

from application.ports.message_hooks import MessageHooks
from application.ports.message_vectors import MessageToIndex
from application.search.indexing_queue import ForgetConversation, IndexingQueue

log = structlog.get_logger("parley.search.indexing")


class SearchIndexingHooks(MessageHooks):
    """Never awaits embedding or storage: a reply is never delayed or failed by indexing."""

    def __init__(
        self, queue: IndexingQueue, embed_backlog: Callable[[], Awaitable[object]] | None = None
    ) -> None:
        self._queue = queue
        self._embed_backlog = embed_backlog
        self._backlog_task: asyncio.Task[None] | None = None
        self._backlog_again = False

    async def message_saved(
        self, *, message_id: UUID, conversation_id: UUID, owner_id: UUID, role: str, content: str
    ) -> None:
        self._queue.submit(MessageToIndex(message_id, conversation_id, owner_id, role, content))

    async def conversation_deleted(self, *, conversation_id: UUID, owner_id: UUID) -> None:
        self._queue.submit(ForgetConversation(conversation_id, owner_id))

    async def messages_imported(self) -> None:
        """One catch-up at a time embeds everything without a vector; a request that comes
        while one runs makes it go round once more (the new rows may be past its scan)."""
        if self._embed_backlog is None:
            return
        if self._backlog_task is not None and not self._backlog_task.done():
            self._backlog_again = True
            return
        self._backlog_task = asyncio.create_task(self._run_backlog(), name="import-indexing")

    async def _run_backlog(self) -> None:
        assert self._embed_backlog is not None
        while True:
            self._backlog_again = False
            try:
                await self._embed_backlog()
            except Exception as exc:  # the next start's catch-up (or `parley reindex`) repairs it
                log.warning("import_indexing_failed", error=type(exc).__name__)
            if not self._backlog_again:
                return

    async def wait_for_backlog(self) -> None:
        """Tests and the CLI: wait until imported messages are indexed."""
        task = self._backlog_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
