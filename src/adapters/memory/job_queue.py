"""The embedded job queue: a bounded pool of asyncio workers inside the API process.

It holds only ids; the jobs table holds the jobs. What it held when its process died is
found again at the next start (and by the periodic sweep) from that table.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

import structlog

from application.jobs.run_job import Outcome, RunResult
from application.ports.jobs import JobQueue, QueueInfo

log = structlog.get_logger("parley.jobs")

Runner = Callable[[UUID], Awaitable[RunResult]]


class InProcessJobQueue(JobQueue):
    """``concurrency`` jobs at once; an id already waiting (or waiting out a retry delay)
    is not queued twice. A job asking to be retried is re-queued after its delay."""

    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._ids: asyncio.Queue[UUID] | None = None
        self._waiting: set[UUID] = set()
        self._timers: dict[UUID, asyncio.TimerHandle] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._busy = 0

    async def enqueue(self, job_ids: Sequence[UUID], *, delay_s: float = 0.0) -> None:
        for job_id in job_ids:
            if job_id in self._waiting:
                continue
            self._waiting.add(job_id)
            if delay_s > 0:
                loop = asyncio.get_running_loop()
                self._timers[job_id] = loop.call_later(delay_s, self._put, job_id)
            else:
                self._put(job_id)

    async def info(self) -> QueueInfo:
        alive = sum(1 for w in self._workers if not w.done())
        detail = f"in-process, {self._busy}/{self._concurrency} busy"
        return QueueInfo(1 if alive else 0, detail)

    def start(self, run: Runner) -> None:
        if self._workers:
            return
        self._queue()
        self._workers = [
            asyncio.create_task(self._work(run), name=f"job-worker-{n}")
            for n in range(self._concurrency)
        ]

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []

    def _queue(self) -> asyncio.Queue[UUID]:
        if self._ids is None:
            self._ids = asyncio.Queue()
        return self._ids

    def _put(self, job_id: UUID) -> None:
        self._timers.pop(job_id, None)
        self._queue().put_nowait(job_id)

    async def _work(self, run: Runner) -> None:
        ids = self._queue()
        while True:
            job_id = await ids.get()
            self._waiting.discard(job_id)
            self._busy += 1
            try:
                result = await run(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # the sweep will deliver it again
                log.exception("job_delivery_failed", job_id=str(job_id))
                continue
            finally:
                self._busy -= 1
            if result.outcome in (Outcome.RETRY, Outcome.BUSY):
                await self.enqueue([job_id], delay_s=result.delay_s)
