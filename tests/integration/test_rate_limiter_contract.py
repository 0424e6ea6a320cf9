"""One contract for both rate limiters: in-process memory and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.redis.rate_limiter import RedisRateLimiter
from application.ports.rate_limiter import RateLimit, RateLimiter, RateLimiterUnavailable
from domain.errors import TooManyRequests
from tests.integration.identity_stores import (
    PIPELINED_KINDS,
    UNREACHABLE_REDIS,
    rate_limiter,
    redis_prefix,
)
from tests.support.backends import require_servers


@pytest.fixture(params=PIPELINED_KINDS)
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    async with rate_limiter(request.param) as made:
        yield made


def fresh_key() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_hits_within_the_limit_are_allowed_and_count_down(limiter: RateLimiter) -> None:
    key, limit = fresh_key(), RateLimit(3, 60)
    decisions = [await limiter.hit(key, limit) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    assert all(d.limit == 3 and d.retry_after_s == 0 for d in decisions)


async def test_the_hit_after_the_limit_is_denied_with_a_retry_after(limiter: RateLimiter) -> None:
    key, limit = fresh_key(), RateLimit(2, 60)
    for _ in range(2):
        await limiter.hit(key, limit)
    denied = await limiter.hit(key, limit)
    assert not denied.allowed
    assert denied.remaining == 0
    assert 1 <= denied.retry_after_s <= 60
    assert 0 < denied.reset_after_s <= 60
    with pytest.raises(TooManyRequests) as caught:
        denied.raise_if_denied()
    assert (caught.value.code, caught.value.limit) == ("RATE_LIMITED", 2)


async def test_keys_are_limited_independently(limiter: RateLimiter) -> None:
    limit = RateLimit(1, 60)
    first, second = fresh_key(), fresh_key()
    assert (await limiter.hit(first, limit)).allowed
    assert not (await limiter.hit(first, limit)).allowed
    assert (await limiter.hit(second, limit)).allowed


async def test_concurrent_hits_let_exactly_the_limit_through(limiter: RateLimiter) -> None:
    key, limit = fresh_key(), RateLimit(10, 60)
    decisions = await asyncio.gather(*(limiter.hit(key, limit) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10


async def test_the_window_frees_up_again_without_a_lockout(limiter: RateLimiter) -> None:
    key, limit = fresh_key(), RateLimit(1, 1)
    assert (await limiter.hit(key, limit)).allowed
    assert not (await limiter.hit(key, limit)).allowed
    await asyncio.sleep(2.1)  # a sliding window needs up to two periods to empty fully
    assert (await limiter.hit(key, limit)).allowed


async def test_a_redis_limiter_that_cannot_reach_redis_fails_closed() -> None:
    async with redis_prefix(UNREACHABLE_REDIS) as (client, prefix):
        limiter = RedisRateLimiter(client, prefix)
        with pytest.raises(RateLimiterUnavailable) as caught:
            await limiter.hit(fresh_key(), RateLimit(5, 60))
        assert caught.value.code == "RATE_LIMITER_UNAVAILABLE"


async def test_a_redis_hit_is_one_round_trip_on_the_counters_of_the_limits_library() -> None:
    """Counters written before this limiter counted hits itself (by the ``limits``
    library's sliding window) keep counting: same keys, same arithmetic."""
    from limits import RateLimitItemPerSecond
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import SlidingWindowCounterRateLimiter

    require_servers()
    async with redis_prefix() as (client, prefix):
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{prefix}ratelimit",
            connection_pool=client.connection_pool,
        )
        library = SlidingWindowCounterRateLimiter(storage)
        key, limit = fresh_key(), RateLimit(5, 60)
        item = RateLimitItemPerSecond(limit.amount, limit.period_s)
        for _ in range(2):
            assert await library.hit(item, key)
        limiter = RedisRateLimiter(client, prefix)
        calls: list[object] = []
        original = client.evalsha

        async def counting(*args: object, **kwargs: object) -> object:
            calls.append(args[0])
            return await original(*args, **kwargs)

        client.evalsha = counting  # type: ignore[method-assign]
        decision = await limiter.hit(key, limit)
        assert len(calls) == 1, "one script call per hit"
        assert (decision.allowed, decision.remaining) == (True, 2)
        assert (await library.get_window_stats(item, key)).remaining == 2
        for _ in range(2):
            assert (await limiter.hit(key, limit)).allowed
        assert not await library.hit(item, key), "the library sees our hits too"
        assert not (await limiter.hit(key, limit)).allowed
