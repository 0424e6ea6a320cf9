"""The Redis job queue's shortcuts leave Redis as SAQ's own queue would, and announce the
same status changes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.backends import REDIS_URL, require_servers


@pytest.fixture
async def queues() -> AsyncIterator[tuple[Any, Any]]:
    """SAQ's stock Redis queue and Parley's, each on its own queue name."""
    require_servers()
    from redis import asyncio as aioredis
    from saq.queue.redis import RedisQueue

    from adapters.redis.job_queue import FewerRoundTripsQueue

    made = []
    for cls in (RedisQueue, FewerRoundTripsQueue):
        name = f"parley-test-{uuid.uuid4().hex[:12]}:rt"
        queue = cls(aioredis.from_url(REDIS_URL), name=name)
        await queue.connect()
        made.append(queue)
    try:
        yield made[0], made[1]
    finally:
        for queue in made:
            keys = [k async for k in queue.redis.scan_iter(match=f"saq:*{queue.name}*")]
            if keys:
                await queue.redis.delete(*keys)
            await queue.disconnect()


async def _lifecycle(queue: Any, keys: list[str]) -> list[Any]:
    """Enqueue, take one, mark it active, finish it; the job taken."""
    from saq.job import Job, Status

    for key in keys:
        await queue.enqueue(Job("run_job", kwargs={"job_id": key}, key=key, ttl=600))
    taken = await queue.dequeue(timeout=1)
    await taken.update(status=Status.ACTIVE)
    await taken.finish(Status.COMPLETE, result="finished")
    return [taken]


async def _state(queue: Any) -> dict[str, Any]:
    """What the queue keeps in Redis, with its own name taken out of the ids."""

    def plain(raw: bytes) -> str:
        return raw.decode().replace(queue.name, "Q")

    stored = await queue.jobs(["a", "b", "c"])
    return {
        "queued": [plain(v) for v in await queue.redis.lrange(queue._queued, 0, -1)],
        "active": [plain(v) for v in await queue.redis.lrange(queue._active, 0, -1)],
        "incomplete": sorted(plain(v) for v in await queue.redis.zrange(queue._incomplete, 0, -1)),
        "jobs": [
            (j.key, j.status.value, j.result, j.attempts, j.progress) if j else None for j in stored
        ],
        "ttl_set": await queue.redis.ttl(queue.job_id("a")) > 0,
    }


async def test_a_job_taken_and_finished_leaves_redis_as_saq_itself_does(
    queues: tuple[Any, Any],
) -> None:
    stock, ours = queues
    taken_stock = await _lifecycle(stock, ["a", "b", "c"])
    taken_ours = await _lifecycle(ours, ["a", "b", "c"])

    assert [j.key for j in taken_ours] == [j.key for j in taken_stock] == ["a"]
    assert await _state(ours) == await _state(stock)
    assert (await _state(ours))["queued"] == ["saq:job:Q:b", "saq:job:Q:c"]


async def test_jobs_are_taken_oldest_first_into_the_active_list(queues: tuple[Any, Any]) -> None:
    from saq.job import Job

    _, ours = queues
    for key in ("a", "b", "c"):
        await ours.enqueue(Job("run_job", key=key))
    taken = [await ours.dequeue(timeout=1) for _ in range(3)]

    assert [j.key for j in taken] == ["a", "b", "c"]
    assert await ours.redis.llen(ours._queued) == 0
    assert [v.decode() for v in await ours.redis.lrange(ours._active, 0, -1)] == [
        ours.job_id(k) for k in ("a", "b", "c")
    ]


async def test_an_empty_queue_waits_then_answers_nothing(queues: tuple[Any, Any]) -> None:
    _, ours = queues
    assert await ours.dequeue(timeout=0.2) is None


async def test_a_job_enqueued_while_a_worker_waits_is_taken(queues: tuple[Any, Any]) -> None:
    from saq.job import Job

    _, ours = queues
    waiting = asyncio.create_task(ours.dequeue(timeout=5))
    await asyncio.sleep(0.2)
    await ours.enqueue(Job("run_job", key="late"))
    taken = await asyncio.wait_for(waiting, 5)
    assert taken is not None and taken.key == "late"


async def test_each_status_change_is_published_once(queues: tuple[Any, Any]) -> None:
    from saq.job import Job, Status

    _, ours = queues
    await ours.enqueue(Job("run_job", key="a"))
    taken = await ours.dequeue(timeout=1)
    heard: list[Status] = []

    def record(_key: str, status: Status) -> bool:
        heard.append(status)
        return status is Status.COMPLETE

    listening = asyncio.create_task(ours.listen(["a"], record, timeout=5))
    await asyncio.sleep(0.3)  # subscribed
    await taken.update(status=Status.ACTIVE)
    await taken.finish(Status.COMPLETE, result="done")
    await asyncio.wait_for(listening, 5)

    assert heard == [Status.ACTIVE, Status.COMPLETE]
    stored = await ours.job("a")
    assert stored is not None and stored.status is Status.COMPLETE and stored.result == "done"


async def test_a_job_running_past_its_first_touch_is_kept_touched() -> None:
    """SAQ sweeps an active job not touched within its heartbeat: a long job's worker must
    keep touching it, while a short one needs no touch at all."""
    require_servers()
    from adapters.redis.job_queue import SaqJobQueue, SaqOptions, saq_queue, saq_worker
    from application.jobs.run_job import Outcome, RunResult

    name = f"parley-test-{uuid.uuid4().hex[:12]}:touch"
    options = SaqOptions(name=name, timeout_s=30, heartbeat_s=3, retries=1, sweep_s=60)
    queue = SaqJobQueue(saq_queue(REDIS_URL, name, socket_timeout_s=None), options)
    release = asyncio.Event()

    async def slow(job_id: uuid.UUID) -> RunResult:
        await release.wait()
        return RunResult(Outcome.FINISHED)

    worker = saq_worker(
        queue, slow, concurrency=1, worker_id="touch", sweep_s=60, heartbeat_s=3,
        shutdown_grace_s=0,
    )  # fmt: skip
    await queue.saq.connect()
    running = asyncio.create_task(worker.start())
    job_id = uuid.uuid4()
    try:
        await queue.enqueue([job_id])
        first = None
        for _ in range(100):
            first = await queue.saq.job(str(job_id))
            if first is not None and first.status.value == "active":
                break
            await asyncio.sleep(0.05)
        assert first is not None
        await asyncio.sleep(2.5)  # a touch is due every second
        later = await queue.saq.job(str(job_id))
        assert later is not None and later.touched > first.touched
        release.set()
        for _ in range(100):
            done = await queue.saq.job(str(job_id))
            if done is not None and done.status.value == "complete":
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the job did not complete")
    finally:
        release.set()
        await worker.stop()
        running.cancel()
        redis = queue.saq.redis  # type: ignore[attr-defined]
        keys = [k async for k in redis.scan_iter(match=f"saq:*{name}*")]
        if keys:
            await redis.delete(*keys)
        await queue.aclose()
