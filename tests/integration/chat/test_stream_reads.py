"""The shared XREAD behind every Redis log reader: one connection for all live streams,
late followers served without waiting out a blocked read, and a dead Redis reported to
every follower (then a fresh connection once it is back)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.redis.client import create_redis
from adapters.redis.generation_log import RedisGenerationLog
from application.ports.generation_log import (
    GenerationEvent,
    GenerationInfo,
    GenerationLogUnavailable,
)
from tests.integration.usage.private_redis import private_redis
from tests.support.backends import REDIS_URL, require_servers

# A blocked read that is never cut short would hold a late follower this long: the tests'
# bounds are far below it, so passing means the late follower was served at once.
LONG_BLOCK_MS = 60_000
BOUND_S = 20.0


@pytest.fixture
async def log() -> AsyncIterator[RedisGenerationLog]:
    require_servers()
    prefix = f"parley-test-{uuid.uuid4().hex[:12]}:"
    main = create_redis(REDIS_URL, 5.0)
    readers = create_redis(REDIS_URL, 5.0, max_connections=4)
    made = RedisGenerationLog(main, readers=readers, prefix=prefix, block_ms=LONG_BLOCK_MS)
    yield made
    await made.aclose()
    keys = [k async for k in main.scan_iter(match=f"{prefix}*")]
    if keys:
        await main.delete(*keys)
    await main.aclose()
    await readers.aclose()


async def started(log: RedisGenerationLog) -> GenerationInfo:
    info = GenerationInfo(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    await log.open(info, GenerationEvent("start", {}))
    return info


async def started_once_reachable(log: RedisGenerationLog) -> GenerationInfo:
    """The main pool's connections died with the server; the first calls may fail."""
    while True:
        try:
            return await started(log)
        except GenerationLogUnavailable:
            await asyncio.sleep(0.05)


async def kinds(log: RedisGenerationLog, info: GenerationInfo, after: str | None) -> list[str]:
    return [event.kind async for event in log.read(info.generation_id, after)]


async def until_following(log: RedisGenerationLog, count: int) -> None:
    while log.readers_following < count:
        await asyncio.sleep(0.01)


async def test_a_follower_joining_a_blocked_read_gets_its_events_at_once(log) -> None:
    first, late = await started(log), await started(log)
    waiting = asyncio.create_task(kinds(log, first, "1"))
    await asyncio.wait_for(until_following(log, 1), BOUND_S)
    await asyncio.sleep(0.2)  # the shared read is now blocked on `first` alone
    joined = asyncio.create_task(kinds(log, late, "1"))
    await asyncio.wait_for(until_following(log, 2), BOUND_S)
    await log.append_many(
        late.generation_id, [GenerationEvent("delta", {"content": "hi"}), GenerationEvent("done")]
    )
    assert await asyncio.wait_for(joined, BOUND_S) == ["delta", "done"]
    assert not waiting.done()
    await log.append(first.generation_id, GenerationEvent("done"))
    assert await asyncio.wait_for(waiting, BOUND_S) == ["done"]


async def test_followers_of_one_stream_from_different_ids_each_get_their_own_events(log) -> None:
    info = await started(log)
    await log.append(info.generation_id, GenerationEvent("delta", {"content": "a"}))
    readers = [asyncio.create_task(kinds(log, info, after)) for after in (None, "1", "2")]
    await asyncio.wait_for(until_following(log, 3), BOUND_S)
    await log.append_many(
        info.generation_id, [GenerationEvent("delta", {"content": "b"}), GenerationEvent("done")]
    )
    results = await asyncio.wait_for(asyncio.gather(*readers), BOUND_S)
    assert results == [
        ["start", "delta", "delta", "done"],
        ["delta", "delta", "done"],
        ["delta", "done"],
    ]
    assert log.readers_following == 0


async def test_a_reader_that_leaves_early_stops_being_followed(log) -> None:
    info = await started(log)
    reading = log.read(info.generation_id)
    assert (await anext(reading)).kind == "start"
    reader = asyncio.create_task(anext(reading))
    await asyncio.wait_for(until_following(log, 1), BOUND_S)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await reading.aclose()
    assert log.readers_following == 0


async def test_redis_dying_fails_every_follower_and_a_restart_serves_new_ones(
    tmp_path: Path,
) -> None:
    with private_redis(tmp_path) as redis_server:
        main = create_redis(redis_server.url, 1.0)
        readers = create_redis(redis_server.url, 1.0, max_connections=2)
        log = RedisGenerationLog(main, readers=readers, prefix="t:", block_ms=500)
        try:
            infos = [await started(log) for _ in range(5)]
            readers_tasks = [asyncio.create_task(kinds(log, info, "1")) for info in infos]
            await asyncio.wait_for(until_following(log, 5), BOUND_S)
            redis_server.stop()
            results = await asyncio.wait_for(
                asyncio.gather(*readers_tasks, return_exceptions=True), BOUND_S
            )
            assert all(isinstance(r, GenerationLogUnavailable) for r in results), results
            assert log.readers_following == 0

            redis_server.start()
            info = await asyncio.wait_for(started_once_reachable(log), BOUND_S)
            again = asyncio.create_task(kinds(log, info, "1"))
            await asyncio.wait_for(until_following(log, 1), BOUND_S)
            await log.append(info.generation_id, GenerationEvent("done"))
            assert await asyncio.wait_for(again, BOUND_S) == ["done"]
        finally:
            await log.aclose()
            await main.aclose()
            await readers.aclose()


async def test_followers_joining_a_busy_stream_from_the_start_get_every_event(log) -> None:
    """While the shared read keeps returning a fast stream's new entries (from the cursor
    of those already following), followers join from the start: each must get every
    event, never the newest ones with a hole before them."""
    info = await started(log)
    first = asyncio.create_task(kinds(log, info, None))
    await asyncio.wait_for(until_following(log, 1), BOUND_S)

    async def write() -> None:
        for n in range(200):
            await log.append(info.generation_id, GenerationEvent("delta", {"content": str(n)}))
        await log.append(info.generation_id, GenerationEvent("done"))

    writer = asyncio.create_task(write())
    joined: list[asyncio.Task[list[str]]] = []
    while not writer.done():
        joined.append(asyncio.create_task(kinds(log, info, None)))
        await asyncio.sleep(0.002)
    await writer
    expected = ["start", *["delta"] * 200, "done"]
    results = await asyncio.wait_for(asyncio.gather(first, *joined), BOUND_S)
    assert len(joined) > 5
    assert all(result == expected for result in results)
