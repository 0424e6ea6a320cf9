"""One contract for both job queues: the in-process pool and SAQ on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

import pytest

from adapters.memory.job_queue import InProcessJobQueue
from application.jobs.run_job import Outcome, RunResult
from application.ports.jobs import JobQueue
from tests.support.backends import REDIS_URL, require_servers


@dataclass
class Deliveries:
    """Counts deliveries; ``script`` says what a job id answers on each delivery."""

    seen: Counter[UUID] = field(default_factory=Counter)
    script: dict[UUID, list[RunResult]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, job_id: UUID) -> RunResult:
        self.seen[job_id] += 1
        self.changed.set()
        answers = self.script.get(job_id) or []
        return answers.pop(0) if answers else RunResult(Outcome.FINISHED)

    async def until(self, done: Callable[[], bool]) -> None:
        for _ in range(400):
            if done():
                return
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 0.05)
        raise AssertionError(f"deliveries stopped at {dict(self.seen)}")


Started = tuple[JobQueue, Deliveries, Callable[[], Awaitable[None]]]


@pytest.fixture(params=["in-process", "redis"])
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[Started]:
    deliveries = Deliveries()
    if request.param == "in-process":
        pool = InProcessJobQueue(concurrency=2)
        pool.start(deliveries)
        yield pool, deliveries, pool.stop
        await pool.stop()
        return
    require_servers()
    from adapters.redis.job_queue import SaqJobQueue, SaqOptions, saq_queue, saq_worker

    name = f"parley-test-{uuid.uuid4().hex[:12]}:contract"
    options = SaqOptions(name=name, timeout_s=30, heartbeat_s=5, retries=10, sweep_s=1)
    saq = SaqJobQueue(saq_queue(REDIS_URL, name, socket_timeout_s=None), options)
    worker = saq_worker(
        saq,
        deliveries,
        concurrency=2,
        worker_id=f"w-{uuid.uuid4().hex[:8]}",
        sweep_s=1,
        heartbeat_s=5,
        shutdown_grace_s=0,
    )
    await saq.saq.connect()
    running = asyncio.create_task(worker.start())
    try:
        yield saq, deliveries, worker.stop
    finally:
        await worker.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        redis = saq.saq.redis  # type: ignore[attr-defined]
        keys = [k async for k in redis.scan_iter(match=f"saq:*{name}*")]
        if keys:
            await redis.delete(*keys)
        await saq.aclose()


async def test_every_enqueued_job_is_delivered(queue: Started) -> None:
    jobs, deliveries, _ = queue
    ids = [uuid.uuid4() for _ in range(20)]
    await jobs.enqueue(ids)
    await deliveries.until(lambda: all(deliveries.seen[i] for i in ids))
    assert set(deliveries.seen) == set(ids)


async def test_a_job_enqueued_twice_while_waiting_is_delivered_once(queue: Started) -> None:
    jobs, deliveries, _ = queue
    later, marker = uuid.uuid4(), uuid.uuid4()
    await jobs.enqueue([later], delay_s=1.0)
    await jobs.enqueue([later], delay_s=1.0)
    await deliveries.until(lambda: deliveries.seen[later] == 1)
    await jobs.enqueue([marker])
    await deliveries.until(lambda: deliveries.seen[marker] == 1)
    assert deliveries.seen[later] == 1


async def test_a_job_that_asks_for_a_retry_is_delivered_again(queue: Started) -> None:
    jobs, deliveries, _ = queue
    job = uuid.uuid4()
    deliveries.script[job] = [RunResult(Outcome.RETRY, 0.1), RunResult(Outcome.BUSY, 0.1)]
    await jobs.enqueue([job])
    await deliveries.until(lambda: deliveries.seen[job] == 3)


async def test_info_counts_a_live_worker(queue: Started) -> None:
    jobs, deliveries, _ = queue
    probe = uuid.uuid4()
    await jobs.enqueue([probe])
    await deliveries.until(lambda: deliveries.seen[probe] == 1)
    for _ in range(100):
        if (await jobs.info()).workers_alive:
            break
        await asyncio.sleep(0.05)
    assert (await jobs.info()).workers_alive >= 1
