"""Redis rate limiter: the ``limits`` library's Redis storage (atomic Lua) behind the port.

It shares the process's Redis connection pool and Parley's key prefix, so limits hold
across every instance (R12).
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.ports.rate_limiter import (
    RateDecision,
    RateLimit,
    RateLimiter,
    RateLimiterUnavailable,
)


class RedisRateLimiter(RateLimiter):
    """Sliding-window counter: two counters per key, O(1) per hit, atomic in Redis."""

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{key_prefix}ratelimit",
            wrap_exceptions=True,
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # forwarded to redis
        )
        self._strategy = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        item = RateLimitItemPerSecond(limit.amount, limit.period_s)
        try:
            allowed = await self._strategy.hit(item, key)
            stats = await self._strategy.get_window_stats(item, key)
        except (StorageError, RedisError, OSError) as exc:
            raise RateLimiterUnavailable("rate limiting is unavailable; try again") from exc
        reset_after = max(0.0, stats.reset_time - time.time())
        if reset_after == 0.0 and stats.remaining < limit.amount:
            # The library takes the window key's TTL modulo the period, which is 0 when
            # the hit opened the window in the same millisecond: a whole period is left.
            reset_after = float(limit.period_s)
        return RateDecision(
            allowed=allowed,
            limit=limit.amount,
            remaining=max(0, stats.remaining),
            reset_after_s=reset_after,
            retry_after_s=0.0 if allowed else max(reset_after, 1.0),
        )
