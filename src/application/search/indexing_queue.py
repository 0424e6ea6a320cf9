"""IndexingQueue: chat hands messages over and returns at once; one background task
embeds them in batches. Bounded: when full, a message is left for catch-up, never waited on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import structlog

from application.ports.message_vectors import MessageToIndex

log = structlog.get_logger("parley.search.indexing")

BATCH_SIZE = 64
BATCH_WAIT_S = 0.02
"""After the first message arrives, wait this long for more to share one embed call."""


@dataclass(frozen=True, slots=True)
class ForgetConversation:
    conversation_id: UUID
    owner_id: UUID


Job = MessageToIndex | ForgetConversation
IndexBatch = Callable[[Sequence[MessageToIndex]], Awaitable[int]]
Forget = Callable[[ForgetConversation], Awaitable[None]]


class IndexingQueue:
    """Business rules: ``submit`` never blocks and never raises; jobs run in arrival order
    (a deletion after a message wins); a failing batch is logged and dropped, catch-up at
    the next start (or ``parley reindex``) indexes what it missed."""

    def __init__(self, index_batch: IndexBatch, forget: Forget, maxsize: int = 10_000) -> None:
        self._index_batch = index_batch
        self._forget = forget
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.failed_batches = 0

    def submit(self, job: Job) -> bool:
        self.start()  # lazily, so the CLI and tests index too without a startup hook
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("indexing_queue_full", dropped=self.dropped)
            return False
        return True

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="search-indexing")

    async def drain(self) -> None:
        """Wait until everything submitted so far has been processed (tests, shutdown)."""
        await self._queue.join()

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Finish queued work within ``timeout_s``, then stop; what is left waits for catch-up."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            jobs = await self._next_jobs()
            try:
                await self._process(jobs)
            except Exception as exc:  # indexing must never die; catch-up repairs the gap
                self.failed_batches += 1
                log.warning("indexing_failed", error=type(exc).__name__, jobs=len(jobs))
            finally:
                for _ in jobs:
                    self._queue.task_done()

    async def _next_jobs(self) -> list[Job]:
        jobs = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BATCH_WAIT_S
        while len(jobs) < BATCH_SIZE and isinstance(jobs[-1], MessageToIndex):
            if self._queue.empty():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    jobs.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            else:
                jobs.append(self._queue.get_nowait())
        return jobs

    async def _process(self, jobs: list[Job]) -> None:
        pending: list[MessageToIndex] = []
        for job in jobs:
            if isinstance(job, MessageToIndex):
                pending.append(job)
                continue
            if pending:
                await self._index_batch(pending)
                pending = []
            await self._forget(job)
        if pending:
            await self._index_batch(pending)
