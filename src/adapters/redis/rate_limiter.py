"""Redis rate limiter: a sliding-window counter in one atomic Lua script per hit.

Every instance shares the counters (under Parley's key prefix), so limits hold across
instances. One script both counts the hit and returns the window it was counted in, so a
hit is one round trip; the counters are those of the ``limits`` library's sliding-window
strategy (same keys, same arithmetic), which this limiter used before.

The reset time is computed here from the raw window: Redis reports TTLs in whole
milliseconds, and a window read in the millisecond it was created (TTL exactly two
periods) must not come back as "resets now" (a denied hit with ``reset_after_s == 0``).
"""

from __future__ import annotations

import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.redis.autopipeline import AutoPipeline
from application.ports.rate_limiter import (
    RateDecision,
    RateLimit,
    RateLimiter,
    RateLimiterUnavailable,
)

# KEYS: previous window, current window. ARGV: limit, period (s).
# Returns {allowed, previous count, previous TTL ms, current count, current TTL ms}.
# The current counter lives two periods; once its TTL is under one period it becomes the
# previous counter and a fresh current one starts. The hit counts when
# floor(previous * previous_ttl / period) + current + 1 stays within the limit; a denied
# hit is not counted.
_HIT = """
local limit = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2]) * 1000
local current_ttl = tonumber(redis.call('pttl', KEYS[2]))
if current_ttl > 0 and current_ttl < expiry then
    redis.call('rename', KEYS[2], KEYS[1])
    redis.call('set', KEYS[2], 0, 'PX', current_ttl + expiry)
end
local previous_count = tonumber(redis.call('get', KEYS[1])) or 0
local previous_ttl = math.max(tonumber(redis.call('pttl', KEYS[1])) or 0, 0)
local current_count = tonumber(redis.call('get', KEYS[2])) or 0
current_ttl = math.max(tonumber(redis.call('pttl', KEYS[2])) or 0, 0)
local weighted = math.floor(previous_count * previous_ttl / expiry) + current_count
if limit < 1 or weighted + 1 > limit then
    return {0, previous_count, previous_ttl, current_count, current_ttl}
end
if redis.call('exists', KEYS[2]) == 1 then
    current_count = redis.call('incrby', KEYS[2], 1)
else
    redis.call('set', KEYS[2], 1, 'PX', expiry * 2)
    current_count = 1
    current_ttl = expiry * 2
end
return {1, previous_count, previous_ttl, current_count, current_ttl}
"""


class RedisRateLimiter(RateLimiter):
    """Sliding-window counter: two counters per key, O(1) per hit, atomic in Redis."""

    def __init__(
        self, redis: Redis, key_prefix: str, calls: AutoPipeline | Redis | None = None
    ) -> None:
        """``calls``: where hits go (an ``AutoPipeline``, so the hits of concurrent
        requests share round trips); the client by default."""
        self._redis = redis
        self._calls = calls if calls is not None else redis
        self._prefix = f"{key_prefix}ratelimit:"
        self._hit = redis.register_script(_HIT)

    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        current_key = f"{self._prefix}{{LIMITER/{key}/{limit.amount}/{limit.period_s}/second}}"
        try:
            answer = await self._hit(
                keys=[f"{current_key}/-1", current_key],
                args=[limit.amount, limit.period_s],
                client=self._calls,  # type: ignore[arg-type]  # evalsha, script_load
            )
        except (RedisError, OSError) as exc:
            raise RateLimiterUnavailable("rate limiting is unavailable; try again") from exc
        allowed = bool(int(answer[0]))
        previous, current = int(answer[1]), int(answer[3])
        previous_ttl, current_ttl = float(answer[2]) / 1000, float(answer[4]) / 1000
        period = float(limit.period_s)
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
