"""Where jobs run: the embedded pool inside `parley serve`, or `parley worker` on Redis.

``EmbeddedJobs`` starts the in-process pool, hands it everything left queued or running
by a previous process, and keeps sweeping for jobs whose worker died.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from dataclasses import dataclass, field

import structlog

from adapters.memory.job_queue import InProcessJobQueue
from application.jobs.recover_jobs import RecoverJobs
from application.jobs.run_job import RunJob

log = structlog.get_logger("parley.jobs")


@dataclass(frozen=True, slots=True)
class WorkerId:
    """Names this process's leases in the jobs table (host, pid, random suffix); no
    colons: SAQ splits its worker keys on them."""

    value: str = field(
        default_factory=lambda: f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    )


class EmbeddedJobs:
    def __init__(
        self,
        queue: InProcessJobQueue,
        run: RunJob,
        recover: RecoverJobs,
        worker: WorkerId,
        sweep_interval_s: float,
    ) -> None:
        self._queue = queue
        self._run = run
        self._recover = recover
        self._worker = worker
        self._interval = sweep_interval_s
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._sweeper is not None:
            return
        self._queue.start(lambda job_id: self._run(job_id, self._worker.value))
        try:
            found = await self._recover(everything=True)
        except Exception as exc:  # a database hiccup at boot must not stop the server
            log.warning("job_recovery_failed_at_startup", error=type(exc).__name__)
        else:
            if found:
                log.info("jobs_recovered", count=found)
        self._sweeper = asyncio.create_task(self._sweep(), name="job-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self._queue.stop()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._recover()
            except Exception as exc:
                log.warning("job_sweep_failed", error=type(exc).__name__)
