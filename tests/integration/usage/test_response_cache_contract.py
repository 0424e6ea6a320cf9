"""One contract for both response caches: in-process memory and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.redis.client import create_redis
from adapters.redis.response_cache import RedisCache
from application.ports.response_cache import Cache, CacheUnavailable
from tests.integration.identity_stores import UNREACHABLE_REDIS
from tests.integration.usage.stores import KINDS, caches


@pytest.fixture(params=KINDS)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Cache, Cache]]:
    async with caches(request.param) as made:
        yield made


def key() -> str:
    return uuid.uuid4().hex


async def test_a_stored_value_is_read_back_from_any_instance(pair: tuple[Cache, Cache]) -> None:
    writer, reader = pair
    k = key()
    await writer.set(k, b"reply", 60)
    assert await reader.get(k) == b"reply"


async def test_hits_and_misses_are_counted(pair: tuple[Cache, Cache]) -> None:
    cache = pair[0]
    before = await cache.stats()
    k = key()
    assert await cache.get(k) is None
    await cache.set(k, b"x", 60)
    assert await cache.get(k) == b"x"
    assert await cache.get(k) == b"x"
    after = await cache.stats()
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 1)


async def test_an_entry_expires_after_its_ttl(pair: tuple[Cache, Cache]) -> None:
    cache = pair[0]
    k = key()
    await cache.set(k, b"x", 1)
    await asyncio.sleep(1.3)
    assert await cache.get(k) is None


async def test_the_memory_cache_drops_the_least_recently_used_entry() -> None:
    async with caches("memory", max_entries=2) as (cache, _):
        await cache.set("a", b"1", 60)
        await cache.set("b", b"2", 60)
        assert await cache.get("a") == b"1"  # "b" is now the least recently used
        await cache.set("c", b"3", 60)
        assert (await cache.get("a"), await cache.get("b"), await cache.get("c")) == (
            b"1",
            None,
            b"3",
        )


async def test_an_unreachable_redis_is_reported_as_unavailable() -> None:
    client = create_redis(UNREACHABLE_REDIS, 0.2)
    try:
        with pytest.raises(CacheUnavailable):
            await RedisCache(client, "parley-test:").get("k")
    finally:
        await client.aclose()
