"""A rate limiter that keeps limiting, per process, while the shared one is unreachable."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from application.ports.rate_limiter import (
    RateDecision,
    RateLimit,
    RateLimiter,
    RateLimiterUnavailable,
)

log = structlog.get_logger("parley.limits")


class FallbackRateLimiter(RateLimiter):
    """Business rules: request limits degrade rather than take every route down with Redis:
    while the shared limiter is unreachable, each instance limits on its own, which
    is looser by at most the number of instances but never unlimited; the shared limiter
    is tried again every ``recheck_s`` (so an unreachable host does not cost each request
    a connect timeout) and used again as soon as it answers. Spending still fails closed
    through the quota ledger, and sign-in throttling keeps the strict limiter."""

    def __init__(
        self,
        shared: RateLimiter,
        local: RateLimiter,
        recheck_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._local = local
        self._recheck_s = recheck_s
        self._clock = clock
        self._degraded_until: float | None = None

    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        if self._degraded_until is not None and self._clock() < self._degraded_until:
            return await self._local.hit(key, limit)
        try:
            decision = await self._shared.hit(key, limit)
        except RateLimiterUnavailable:
            if self._degraded_until is None:
                log.warning("rate_limiter_degraded_to_local")
            self._degraded_until = self._clock() + self._recheck_s
            return await self._local.hit(key, limit)
        if self._degraded_until is not None:
            log.info("rate_limiter_recovered")
            self._degraded_until = None
        return decision
