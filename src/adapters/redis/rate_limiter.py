"""Redis rate limiter: the ``limits`` library's Redis storage (atomic Lua) behind the port.

It shares the process's Redis connection pool and Parley's key prefix, so limits hold
across every instance.

The reset time is computed here from the raw window rather than taken from the library's
``get_window_stats``: that takes the current window's TTL modulo the period, and Redis
reports TTLs in whole milliseconds, so a window read in the millisecond it was created
(TTL exactly two periods) came back as "resets now" and a denied hit got
``reset_after_s == 0``.
"""

from __future__ import annotations

import math

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
        self._storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{key_prefix}ratelimit",
            wrap_exceptions=True,
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # forwarded to redis
        )
        self._strategy = SlidingWindowCounterRateLimiter(self._storage)

    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        item = RateLimitItemPerSecond(limit.amount, limit.period_s)
        try:
            allowed = await self._strategy.hit(item, key)
            window = await self._storage.get_sliding_window(item.key_for(key), item.get_expiry())
        except (StorageError, RedisError, OSError) as exc:
            raise RateLimiterUnavailable("rate limiting is unavailable; try again") from exc
        previous, previous_ttl, current, current_ttl = window
        period = float(item.get_expiry())
        counted = math.floor(previous * previous_ttl / period) + current
        frees_in = next_slot_frees_in(period, previous, previous_ttl, current, current_ttl)
        if allowed:
            return RateDecision(
                allowed=True,
                limit=limit.amount,
                remaining=max(0, limit.amount - counted),
                reset_after_s=frees_in,
                retry_after_s=0.0,
            )
        wait = max(frees_in, 1.0)  # Retry-After is whole seconds; "0" would invite a retry storm
        return RateDecision(
            allowed=False,
            limit=limit.amount,
            remaining=max(0, limit.amount - counted),
            reset_after_s=wait,
            retry_after_s=wait,
        )


def next_slot_frees_in(
    period: float, previous: int, previous_ttl: float, current: int, current_ttl: float
) -> float:
    """Seconds until the weighted count ``floor(previous * previous_ttl / period) + current``
    drops by one, as the limiter's Lua script counts it; 0 when nothing is counted.

    The current counter is created with a TTL of two periods and becomes the previous one
    (keeping its TTL, now under one period) once its TTL falls below one period, so it
    rolls over in ``current_ttl - period`` seconds; the previous counter expires then too.
    """
    counted = math.floor(previous * previous_ttl / period) + current
    if counted <= 0:
        return 0.0
    rolls_over_in = min(max(current_ttl - period, 0.0), period)
    from_previous = counted - current  # what the previous window still contributes
    if from_previous > 0:
        # floor(previous * (previous_ttl - t) / period) falls below from_previous at:
        return max(0.0, previous_ttl - from_previous * period / previous)
    # Only the current window counts: nothing frees before it rolls over, and from then on
    # it decays like a previous window, so one slot is free at the rollover itself.
    return rolls_over_in
