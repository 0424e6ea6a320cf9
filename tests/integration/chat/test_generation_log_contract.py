"""One contract for every GenerationLog: the in-process buffer and Redis Streams.

Resume from any id without gaps or duplicates, concurrent readers, terminal events, TTL,
trimming, cross-instance cancel, and a clean error when the storage is down.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.memory.generation_log import MemoryGenerationLog
from adapters.redis.client import create_redis
from adapters.redis.generation_log import RedisGenerationLog
from application.chat.local_first_log import LocalFirstGenerationLog
from application.ports.generation_log import (
    EventsExpired,
    GenerationEvent,
    GenerationInfo,
    GenerationLog,
    GenerationLogUnavailable,
    InvalidEventId,
)
from domain.messages import GenerationNotFound
from tests.support.backends import REDIS_URL, require_servers


@dataclass
class Harness:
    """Makes logs of one kind; ``peer`` is a second instance sharing the same storage."""

    kind: str
    made: list[Any] = field(default_factory=list)
    now: list[float] = field(default_factory=lambda: [0.0])
    prefix: str = field(default_factory=lambda: f"parley-test-{uuid.uuid4().hex[:12]}:")
    shared_memory: MemoryGenerationLog | None = None
    making_peer: bool = False

    def new(self, *, ttl_s: int = 3600, max_events: int = 10_000) -> GenerationLog:
        if self.kind == "memory":
            made = MemoryGenerationLog(
                ttl_s=ttl_s, max_events=max_events, clock=lambda: self.now[0]
            )
            self.shared_memory = self.shared_memory or made
            return made
        client = create_redis(REDIS_URL, 1.0)
        self.made.append(client)
        shared = RedisGenerationLog(
            client, prefix=self.prefix, ttl_s=ttl_s, max_events=max_events, cancel_poll_s=0.05
        )
        if self.kind == "local-first" and not self.making_peer:
            return LocalFirstGenerationLog(shared)
        return shared

    def peer(self, log: GenerationLog) -> GenerationLog:
        """Another instance: for memory that is the same process-local object; for the
        local-first log, a plain Redis one (another instance reads what this one wrote)."""
        if self.kind == "memory":
            return log
        self.making_peer = True
        try:
            return self.new()
        finally:
            self.making_peer = False

    async def let_time_pass(self, seconds: float) -> None:
        if self.kind == "memory":
            self.now[0] += seconds
        else:
            await asyncio.sleep(seconds)


@pytest.fixture(params=["memory", "redis", "local-first"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param != "memory":
        require_servers()
    made = Harness(request.param)
    yield made
    for client in made.made:
        keys = [k async for k in client.scan_iter(match=f"{made.prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def new_info() -> GenerationInfo:
    return GenerationInfo(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4())


async def started(log: GenerationLog) -> GenerationInfo:
    info = new_info()
    await log.begin(info)
    return info


async def collect(
    log: GenerationLog, gid: uuid.UUID, after: str | None = None
) -> list[GenerationEvent]:
    return [e async for e in log.read(gid, after)]


def deltas(*texts: str) -> list[GenerationEvent]:
    return [GenerationEvent("delta", {"content": t}) for t in texts]


async def test_opening_records_the_generation_and_its_first_event_together(harness) -> None:
    log = harness.new()
    info = new_info()
    first = await log.open(info, GenerationEvent("start", {"generation_id": "g"}))
    assert first == "1" and await harness.peer(log).info(info.generation_id) == info
    snapshot = await log.snapshot(info.generation_id)
    assert [(e.id, e.kind, e.data) for e in snapshot] == [("1", "start", {"generation_id": "g"})]


async def test_a_burst_appended_at_once_keeps_its_order_and_ids(harness) -> None:
    log = harness.new()
    info = await started(log)
    assert await log.append(info.generation_id, deltas("a")[0]) == "1"
    ids = await log.append_many(info.generation_id, deltas("b", "c", "d"))
    await log.append(info.generation_id, GenerationEvent("done", {}))
    events = await collect(harness.peer(log), info.generation_id, "1")
    assert ids == ["2", "3", "4"]
    assert [(e.id, e.data.get("content")) for e in events] == [
        ("2", "b"),
        ("3", "c"),
        ("4", "d"),
        ("5", None),
    ]


async def test_events_get_increasing_ids_and_are_read_in_order_until_done(harness) -> None:
    log = harness.new()
    info = await started(log)
    ids = [await log.append(info.generation_id, e) for e in deltas("a", "b", "c")]
    ids.append(await log.append(info.generation_id, GenerationEvent("done", {"ok": True})))
    events = await collect(log, info.generation_id)
    assert ids == ["1", "2", "3", "4"]
    assert [e.id for e in events] == ids
    assert [e.kind for e in events] == ["delta", "delta", "delta", "done"]
    assert [e.data.get("content") for e in events[:3]] == ["a", "b", "c"]


async def test_resuming_after_any_id_gives_every_later_event_once(harness) -> None:
    log = harness.new()
    info = await started(log)
    for event in [*deltas(*"abcdefgh"), GenerationEvent("done", {})]:
        await log.append(info.generation_id, event)
    for after in range(10):
        events = await collect(log, info.generation_id, str(after))
        assert [int(e.id) for e in events] == list(range(after + 1, 10))


async def test_a_reader_waits_for_events_appended_later(harness) -> None:
    log = harness.new()
    info = await started(log)
    reader = asyncio.create_task(collect(harness.peer(log), info.generation_id))
    await asyncio.sleep(0.05)
    assert not reader.done()
    for event in [*deltas("x", "y"), GenerationEvent("error", {"code": "BOOM"})]:
        await log.append(info.generation_id, event)
        await asyncio.sleep(0.01)
    events = await asyncio.wait_for(reader, 10)
    assert [(e.kind, e.id) for e in events] == [("delta", "1"), ("delta", "2"), ("error", "3")]


async def test_concurrent_readers_from_different_ids_see_no_gaps_or_duplicates(harness) -> None:
    log = harness.new()
    info = await started(log)
    gid = info.generation_id
    for event in deltas("0", "1", "2"):
        await log.append(gid, event)
    readers = [asyncio.create_task(collect(harness.peer(log), gid, a)) for a in (None, "1", "3")]
    for n in range(3, 40):
        await log.append(gid, GenerationEvent("delta", {"content": str(n)}))
        if n % 7 == 0:
            await asyncio.sleep(0.005)
    await log.append(gid, GenerationEvent("done", {}))
    results = await asyncio.wait_for(asyncio.gather(*readers), 10)
    for start, events in zip((0, 1, 3), results, strict=True):
        assert [int(e.id) for e in events] == list(range(start + 1, 42))


async def test_reading_after_the_terminal_event_ends_at_once(harness) -> None:
    log = harness.new()
    info = await started(log)
    await log.append(info.generation_id, GenerationEvent("done", {}))
    assert await asyncio.wait_for(collect(log, info.generation_id, "1"), 5) == []


async def test_event_data_round_trips_including_newlines_and_unicode(harness) -> None:
    log = harness.new()
    info = await started(log)
    tricky = "line1\n\nevent: done\ndata: {}\r\n\u2028 émoji 🎉"
    await log.append(info.generation_id, GenerationEvent("delta", {"content": tricky}))
    await log.append(info.generation_id, GenerationEvent("done", {"n": [1, None, "x"]}))
    events = await collect(log, info.generation_id)
    assert events[0].data == {"content": tricky}
    assert events[1].data == {"n": [1, None, "x"]}


async def test_info_is_what_begin_recorded_and_unknown_is_none(harness) -> None:
    log = harness.new()
    info = await started(log)
    assert await harness.peer(log).info(info.generation_id) == info
    assert await log.info(uuid.uuid4()) is None


async def test_reading_an_unknown_generation_is_not_found(harness) -> None:
    log = harness.new()
    with pytest.raises(GenerationNotFound):
        await collect(log, uuid.uuid4())


async def test_a_malformed_event_id_is_refused(harness) -> None:
    log = harness.new()
    info = await started(log)
    with pytest.raises(InvalidEventId):
        await collect(log, info.generation_id, "1-0; DROP")


async def test_snapshot_returns_what_is_stored_without_waiting(harness) -> None:
    log = harness.new()
    info = await started(log)
    for event in deltas("a", "b"):
        await log.append(info.generation_id, event)
    snapshot = await asyncio.wait_for(log.snapshot(info.generation_id), 5)
    assert [e.data["content"] for e in snapshot] == ["a", "b"]
    assert await log.snapshot(uuid.uuid4()) == []


async def test_a_finished_generation_is_forgotten_after_its_ttl(harness) -> None:
    log = harness.new(ttl_s=1)
    info = await started(log)
    await log.append(info.generation_id, GenerationEvent("done", {}))
    assert await log.info(info.generation_id) == info
    await harness.let_time_pass(2.1)
    assert await log.info(info.generation_id) is None
    assert await log.snapshot(info.generation_id) == []


async def test_resuming_from_a_trimmed_id_is_refused_rather_than_gapped(harness) -> None:
    log = harness.new(max_events=10)
    info = await started(log)
    for n in range(300):
        await log.append(info.generation_id, GenerationEvent("delta", {"content": str(n)}))
    await log.append(info.generation_id, GenerationEvent("done", {}))
    with pytest.raises(EventsExpired):
        await collect(log, info.generation_id, "1")
    tail = await collect(log, info.generation_id, "295")
    assert [e.id for e in tail] == ["296", "297", "298", "299", "300", "301"]


async def test_cancel_requested_on_one_instance_reaches_a_waiter_on_another(harness) -> None:
    log = harness.new()
    info = await started(log)
    waiter = asyncio.create_task(log.wait_for_cancel(info.generation_id))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await harness.peer(log).request_cancel(info.generation_id)
    await asyncio.wait_for(waiter, 5)


async def test_a_cancel_requested_before_waiting_is_not_missed(harness) -> None:
    log = harness.new()
    info = await started(log)
    await harness.peer(log).request_cancel(info.generation_id)
    await asyncio.wait_for(log.wait_for_cancel(info.generation_id), 5)


async def test_cancelling_one_generation_leaves_others_running(harness) -> None:
    log = harness.new()
    one, other = await started(log), await started(log)
    waiter = asyncio.create_task(log.wait_for_cancel(other.generation_id))
    await log.request_cancel(one.generation_id)
    await asyncio.sleep(0.2)
    assert not waiter.done()
    waiter.cancel()


async def test_redis_down_is_a_clean_unavailable_error() -> None:
    client = create_redis("redis://127.0.0.1:1/0", 0.5)
    log = RedisGenerationLog(client, prefix="parley-test-down:")
    info = new_info()
    try:
        with pytest.raises(GenerationLogUnavailable):
            await log.begin(info)
        with pytest.raises(GenerationLogUnavailable):
            await log.append(info.generation_id, GenerationEvent("delta", {"content": "x"}))
        with pytest.raises(GenerationLogUnavailable):
            await collect(log, info.generation_id)
    finally:
        await client.aclose()


async def test_many_blocked_readers_do_not_starve_other_redis_calls() -> None:
    """Live streams wait for their next events in one shared XREAD, so however many there
    are, the main client (token checks, rate limits, appends) keeps answering and the
    readers' pool holds a single connection.

    What proves it is structural, not a race against the clock: all 150 reads are seen
    waiting at once while the readers' pool has at most one connection checked out, and
    the main client then answers with a pool wait shorter than one blocked read. The
    timeouts are otherwise roomy, as on a saturated box."""
    require_servers()
    prefix = f"parley-test-{uuid.uuid4().hex[:12]}:"
    main = create_redis(REDIS_URL, 10.0, pool_wait_s=2.0)
    readers = create_redis(REDIS_URL, 10.0, max_connections=400)
    log = RedisGenerationLog(main, readers=readers, prefix=prefix, block_ms=5000)
    ids = [uuid.uuid4() for _ in range(150)]
    tasks: list[asyncio.Task[list[str]]] = []
    try:
        for gid in ids:
            await log.begin(GenerationInfo(gid, uuid.uuid4(), uuid.uuid4(), uuid.uuid4()))

        async def drain(gid: uuid.UUID) -> list[str]:
            return [e.kind async for e in log.read(gid)]

        await asyncio.gather(*(main.ping() for _ in range(100)))
        tasks = [asyncio.create_task(drain(gid)) for gid in ids]
        await asyncio.wait_for(all_blocked(log, tasks), 60)
        assert readers_in_use(readers) <= 1
        assert await main.ping()
        for gid in ids:
            await log.append(gid, GenerationEvent("delta", {"content": "x"}))
            await log.append(gid, GenerationEvent("done", {}))
        results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
        assert all(kinds == ["delta", "done"] for kinds in results)
        assert log.readers_following == 0
    finally:
        for task in tasks:
            task.cancel()
        await log.aclose()
        keys = [k async for k in main.scan_iter(match=f"{prefix}*")]
        if keys:
            await main.delete(*keys)
        await main.aclose()
        await readers.aclose()


async def all_blocked(log: RedisGenerationLog, tasks: list[asyncio.Task[list[str]]]) -> None:
    """Until every reader waits in the shared read at once."""
    while log.readers_following < len(tasks):
        assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
        await asyncio.sleep(0.05)


def readers_in_use(client: Any) -> int:
    """Connections of ``client``'s pool checked out right now (idle ones excluded)."""
    counts = client.connection_pool.get_connection_count()
    return int(counts[1][0])
