"""ImportedMessagesIndexing: index what an import stored, from the table, in the background.

An import stores tens of thousands of messages in a minute; one queue entry each would
overflow the indexing queue (bounded, by design) and leave most of them for the next start.
Instead the messages are found the way catch-up finds any message without a vector, and
embedded in batches by the same catch-up, one run at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("parley.search.indexing")


class ImportedMessagesIndexing:
    """Business rules: ``messages_imported`` never blocks and never raises; a request that
    comes while a run is going makes it go round once more (the new rows may be past its
    scan); a failed run is logged, and the next start's catch-up (or `parley reindex`)
    repairs it."""

    def __init__(self, embed_backlog: Callable[[], Awaitable[object]]) -> None:
        self._embed_backlog = embed_backlog
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def messages_imported(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run(), name="import-indexing")

    async def wait(self) -> None:
        """The CLI and tests: until what was imported so far is indexed."""
        task = self._task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await self._embed_backlog()
            except Exception as exc:
                log.warning("import_indexing_failed", error=type(exc).__name__)
            if not self._again:
                return
