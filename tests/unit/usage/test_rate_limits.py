"""Request limits: one window per group and caller, chat shared by every transport, and
a degraded (per-instance) mode while the shared limiter is unreachable."""

from __future__ import annotations

import uuid

import pytest

from adapters.memory.rate_limiter import MemoryRateLimiter
from application.ports.rate_limiter import (
    RateDecision,
    RateLimit,
    RateLimiter,
    RateLimiterUnavailable,
)
from application.usage.fallback_rate_limiter import FallbackRateLimiter
from application.usage.rate_limits import ChatRateLimit, RateLimitPolicy, RateLimits
from domain.errors import TooManyRequests
from tests.unit.usage.fakes import RecordingMetrics


class SwitchableLimiter(RateLimiter):
    """A shared limiter that can be taken down; counts the calls that reached it."""

    def __init__(self) -> None:
        self.inner = MemoryRateLimiter()
        self.down = False
        self.calls = 0

    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        self.calls += 1
        if self.down:
            raise RateLimiterUnavailable("redis down")
        return await self.inner.hit(key, limit)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def limits(limiter: RateLimiter, **policy: object) -> RateLimits:
    return RateLimits(limiter, RateLimitPolicy(**policy), RecordingMetrics())  # type: ignore[arg-type]


async def test_the_chat_limit_is_one_window_per_user_whatever_the_transport() -> None:
    shared = limits(MemoryRateLimiter(), chat=RateLimit(2, 60))
    chat = ChatRateLimit(shared)
    user = uuid.uuid4()
    await chat.check(user)  # a WebSocket frame
    await shared.check("chat", f"user:{user}")  # a REST send
    with pytest.raises(TooManyRequests) as caught:
        await chat.check(user)
    assert (caught.value.code, caught.value.limit) == ("RATE_LIMITED", 2)
    await chat.check(uuid.uuid4())  # someone else


async def test_switched_off_limits_decide_nothing() -> None:
    off = limits(MemoryRateLimiter(), enabled=False, default=RateLimit(1, 60))
    for _ in range(3):
        assert await off.check("default", "ip:1.2.3.4") is None


async def test_limits_go_local_while_the_shared_limiter_is_down_and_come_back() -> None:
    shared, clock = SwitchableLimiter(), Clock()
    limiter = FallbackRateLimiter(shared, MemoryRateLimiter(), recheck_s=2.0, clock=clock)
    limit = RateLimit(2, 60)
    shared.down = True
    assert (await limiter.hit("k", limit)).allowed
    assert (await limiter.hit("k", limit)).allowed
    assert not (await limiter.hit("k", limit)).allowed  # still limited, per instance
    assert shared.calls == 1  # not retried on every request while down
    shared.down = False
    clock.now = 2.5
    decision = await limiter.hit("k", limit)
    assert decision.allowed and shared.calls == 2  # back on the shared window
