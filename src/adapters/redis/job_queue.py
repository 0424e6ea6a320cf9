"""The Redis job queue, on SAQ: API processes enqueue ids, `parley worker` processes run them.

SAQ brings the queue itself (atomic enqueue de-duplicated by key, blocking dequeue,
scheduled retries, a sweep of jobs whose heartbeat lapsed, worker liveness). Parley keeps
the record in its own jobs table, so a SAQ job carries only the job id, keyed by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from redis import asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError
from saq import Queue, Worker
from saq.job import Job as SaqJob
from saq.job import Status
from saq.queue.redis import RedisQueue

from application.jobs.run_job import Outcome, RunResult
from application.ports.jobs import JobQueue, QueueInfo
from domain.errors import Unavailable

log = structlog.get_logger("parley.jobs")

FUNCTION = "run_job"
Runner = Callable[[UUID], Awaitable[RunResult]]


class QueueUnavailable(Unavailable):
    code = "QUEUE_UNAVAILABLE"
    title = "Job queue unavailable"


@dataclass(frozen=True, slots=True)
class SaqOptions:
    name: str
    """Queue name; SAQ's keys are ``saq:<name>:...`` and ``saq:job:<name>:...``."""
    timeout_s: int
    heartbeat_s: int
    """A running job not touched for this long is swept (its worker died) and retried."""
    retries: int
    """SAQ-level deliveries; the jobs table bounds the real attempts, so this has slack."""
    sweep_s: int = 5
    result_ttl_s: int = 600


def saq_queue(url: str, name: str, *, socket_timeout_s: float | None) -> Queue:
    client = aioredis.from_url(url, socket_timeout=socket_timeout_s, socket_connect_timeout=2.0)
    return FewerRoundTripsQueue(client, name=name)


# Take the head of the queued list into the active list and read the job, in one step:
# what SAQ's BLMOVE (LEFT, RIGHT) and the GET after it do, when a job is waiting.
_TAKE = """
local id = redis.call('LPOP', KEYS[1])
if not id then return nil end
redis.call('RPUSH', KEYS[2], id)
return {id, redis.call('GET', id)}
"""


class FewerRoundTripsQueue(RedisQueue):
    """SAQ's Redis queue writing the same keys, values and messages in fewer round trips.

    Per job SAQ's worker dequeues (a blocking move, then a read), marks the job active (a
    write, then a publish) and finishes it (a transaction, then a publish): six round
    trips, a third of a worker's CPU for a short job. Here a waiting job is taken and read
    by one script (an empty queue still blocks in SAQ's own dequeue), and each publish
    travels with the write it announces. Written against SAQ 0.26's internals; the
    version is pinned below 0.27 for that reason.
    """

    _take: AsyncScript | None = None

    async def dequeue(
        self,
        timeout: float = 0.0,  # noqa: ASYNC109 (SAQ's signature)
        poll_interval: float = 0.0,
    ) -> SaqJob | None:
        if self._take is None:
            self._take = self.redis.register_script(_TAKE)
        taken = await self._take(keys=[self._queued, self._active], client=self.redis)
        if taken:
            return self.deserialize(taken[1])
        return await super().dequeue(timeout, poll_interval)

    async def _update(self, job: SaqJob, status: Status | None = None, **kwargs: Any) -> None:
        if not status:  # a heartbeat keeps the stored status: SAQ reads it first
            await super()._update(job, status, **kwargs)
            return
        job.status = status
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(job.id, self.serialize(job))
            pipe.publish(job.id, job.status)
            await pipe.execute()

    async def _finish(
        self, job: SaqJob, status: Status, *, result: Any = None, error: str | None = None
    ) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(self._active, 1, job.id)
            pipe.zrem(self._incomplete, job.id)
            if job.ttl > 0:
                pipe.setex(job.id, job.ttl, self.serialize(job))
            elif job.ttl == 0:
                pipe.set(job.id, self.serialize(job))
            else:
                pipe.delete(job.id)
            pipe.publish(job.id, job.status)
            await pipe.execute()


class SaqJobQueue(JobQueue):
    def __init__(self, queue: Queue, options: SaqOptions) -> None:
        self._queue = queue
        self._options = options

    @property
    def saq(self) -> Queue:
        return self._queue

    async def enqueue(self, job_ids: Sequence[UUID], *, delay_s: float = 0.0) -> None:
        scheduled = int(time.time() + delay_s) if delay_s > 0 else 0
        try:
            for job_id in job_ids:
                await self._queue.enqueue(self._saq_job(job_id, scheduled))
        except (RedisError, OSError) as exc:
            raise QueueUnavailable("the job queue is not reachable") from exc

    async def info(self) -> QueueInfo:
        try:
            info = await self._queue.info()
        except (RedisError, OSError) as exc:
            raise QueueUnavailable("the job queue is not reachable") from exc
        workers = len(info.get("workers") or {})
        detail = f"redis queue, {info.get('queued', 0)} waiting, {info.get('active', 0)} active"
        return QueueInfo(workers, detail)

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._queue.disconnect()

    def _saq_job(self, job_id: UUID, scheduled: int) -> SaqJob:
        o = self._options
        return SaqJob(
            FUNCTION,
            kwargs={"job_id": str(job_id)},
            key=str(job_id),
            timeout=o.timeout_s,
            heartbeat=o.heartbeat_s,
            retries=o.retries,
            ttl=o.result_ttl_s,
            scheduled=scheduled,
        )


class Redeliver(Exception):
    """Ask SAQ to deliver the job again after the delay the runner chose."""


def saq_worker(
    queue: SaqJobQueue,
    run: Runner,
    *,
    concurrency: int,
    worker_id: str,
    sweep_s: int,
    heartbeat_s: int,
    shutdown_grace_s: int = 5,
) -> Worker[Any]:
    """A SAQ worker whose one function runs Parley's job runner for the id it carries."""

    async def run_job(ctx: dict[str, Any], *, job_id: str) -> str:
        saq_job: SaqJob = ctx["job"]
        every = max(1.0, heartbeat_s / 3)
        touch: list[asyncio.Task[None]] = []

        def start_touching() -> None:
            touch.append(asyncio.create_task(_keep_touched(saq_job, every)))

        # The runner runs in SAQ's own task (SAQ's abort or shutdown cancels it there); a
        # job that ends before its first touch is due costs no heartbeat task, only a timer.
        due = asyncio.get_running_loop().call_later(every, start_touching)
        try:
            result = await run(UUID(job_id))
        finally:
            due.cancel()
            for task in touch:
                task.cancel()
        if result.outcome in (Outcome.RETRY, Outcome.BUSY):
            saq_job.retry_delay = result.delay_s
            saq_job.retry_backoff = False
            raise Redeliver(result.outcome.value)
        return str(result.outcome.value)

    return Worker(
        queue.saq,
        functions=[(FUNCTION, run_job)],
        concurrency=concurrency,
        id=worker_id,
        timers={"sweep": sweep_s, "abort": 1, "worker_info": 10, "schedule": 1},
        dequeue_timeout=1.0,
        # On stop, running jobs get this long; then they go back to the queue.
        shutdown_grace_period_s=shutdown_grace_s,
        cancellation_hard_deadline_s=2.0,
    )


async def _keep_touched(job: SaqJob, every_s: float) -> None:
    """SAQ's heartbeat: a job not touched within ``heartbeat`` seconds is swept."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await job.update()
        except (RedisError, OSError) as exc:
            log.info("saq_heartbeat_failed", error=type(exc).__name__)
