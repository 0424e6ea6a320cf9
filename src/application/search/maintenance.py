"""IndexMaintenance: the index replica's life in a serving process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

import structlog

from application.ports.vector_index import VectorIndex
from application.search.catch_up import CatchUpIndex
from application.search.index_status import IndexStatus
from application.search.indexing_queue import IndexingQueue

log = structlog.get_logger("parley.search.maintenance")


class IndexMaintenance:
    """Business rules:
    - at start, the saved copy is loaded and reconciled with the table before serving;
      messages that never got a vector are embedded afterwards, in the background;
    - every ``sync_interval_s`` the replica catches up with what other processes wrote
      (vectors added or deleted elsewhere), so instances converge without talking;
    - at stop, queued indexing work gets a few seconds, then the index is saved;
    - none of this ever raises into the server: failures are logged and show in health.
    """

    def __init__(
        self,
        catch_up: CatchUpIndex,
        index: VectorIndex,
        queue: IndexingQueue,
        status: IndexStatus,
        sync_interval_s: float,
    ) -> None:
        self._catch_up = catch_up
        self._index = index
        self._queue = queue
        self._status = status
        self._interval = sync_interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._guarded(self._catch_up(load_file=True))
        self._task = asyncio.create_task(self._background(), name="search-index-maintenance")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._queue.stop()
        await self._guarded(self._index.save())

    async def _background(self) -> None:
        await self._guarded(self._catch_up(embed_backlog=True))
        while True:
            await asyncio.sleep(self._interval)
            await self._guarded(self._catch_up())

    async def _guarded(self, work: Awaitable[object]) -> None:
        try:
            await work
            self._status.last_error = None
        except Exception as exc:
            self._status.last_error = type(exc).__name__
            log.warning("vector_index_maintenance_failed", error=type(exc).__name__)
