"""In-process rate limiter: the ``limits`` library's memory storage behind the port."""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from application.ports.rate_limiter import RateDecision, RateLimit, RateLimiter


class MemoryRateLimiter(RateLimiter):
    """Sliding-window counter: O(1) per hit and atomic (``limits`` locks each key)."""

    def __init__(self) -> None:
        self._strategy = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        item = RateLimitItemPerSecond(limit.amount, limit.period_s)
        allowed = await self._strategy.hit(item, key)
        stats = await self._strategy.get_window_stats(item, key)
        reset_after = max(0.0, stats.reset_time - time.time())
        return RateDecision(
            allowed=allowed,
            limit=limit.amount,
            remaining=max(0, stats.remaining),
            reset_after_s=reset_after,
            retry_after_s=0.0 if allowed else max(reset_after, 1.0),
        )
