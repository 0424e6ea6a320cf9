"""`parley worker`: consume the Redis job queue with SAQ, through the same container.

Each worker process also sweeps the jobs table for jobs a queue lost (an enqueue that
never reached Redis, a Redis that lost its data) and delivers them again.
"""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
import structlog
from dishka import AsyncContainer

from adapters.redis.job_queue import SaqJobQueue, saq_worker
from application.jobs.recover_jobs import RecoverJobs
from application.jobs.run_job import RunJob
from entrypoints.jobs_runtime import WorkerId
from entrypoints.settings import Settings, SettingsError

log = structlog.get_logger("parley.jobs")


def worker_settings(settings: Settings, concurrency: int) -> Settings:
    """The settings a worker running ``concurrency`` jobs at once builds its container
    from: each job holds at most one database connection at a time, and the sweep one
    more, so the pool keeps that many. A smaller pool opens and closes an overflow
    connection job after job (a connect and a login each time, on both ends)."""
    needed = concurrency + 1
    if settings.database.pool_size >= needed:
        return settings
    database = msgspec.structs.replace(settings.database, pool_size=needed)
    return msgspec.structs.replace(settings, database=database)


class JobWorker:
    def __init__(self, container: AsyncContainer, concurrency: int) -> None:
        self._container = container
        self._concurrency = concurrency
        self._stopping = asyncio.Event()
        self.worker_id = ""

    async def run(self) -> None:
        """Until SIGINT/SIGTERM (SAQ's handlers) or ``stop``; running jobs get a grace
        period, then go back to the queue without counting as an attempt."""
        settings = await self._container.get(Settings)
        if not settings.redis.url:
            raise SettingsError(
                "`parley worker` needs PARLEY_REDIS_URL (without Redis, "
                "`parley serve` runs jobs itself)"
            )
        queue = await self._container.get(SaqJobQueue)
        run_job = await self._container.get(RunJob)
        recover = await self._container.get(RecoverJobs)
        self.worker_id = (await self._container.get(WorkerId)).value
        worker = saq_worker(
            queue,
            lambda job_id: run_job(job_id, self.worker_id),
            concurrency=self._concurrency,
            worker_id=self.worker_id,
            sweep_s=settings.jobs.sweep_interval_s,
            heartbeat_s=max(1, int(settings.jobs.lease_s)),
            shutdown_grace_s=settings.jobs.shutdown_grace_s,
        )
        await queue.saq.connect()
        sweeper = asyncio.create_task(self._sweep(recover, settings.jobs.sweep_interval_s))
        log.info("worker_started", worker=self.worker_id, concurrency=self._concurrency)
        started = asyncio.create_task(worker.start())
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({started, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await worker.stop()
            for task in (sweeper, stopping, started):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            log.info("worker_stopped", worker=self.worker_id)

    def stop(self) -> None:
        self._stopping.set()

    async def _sweep(self, recover: RecoverJobs, interval_s: float) -> None:
        while True:
            try:
                found = await recover()
                if found:
                    log.info("jobs_redelivered", count=found)
            except Exception as exc:
                log.warning("job_sweep_failed", error=type(exc).__name__)
            await asyncio.sleep(interval_s)
