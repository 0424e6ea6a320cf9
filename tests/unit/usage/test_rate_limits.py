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
from application.usage.limit_strings import describe_window, parse_limit_string
from application.usage.rate_limits import ChatRateLimit, RateLimitPolicy, RateLimits
from domain.errors import TooManyRequests
from entrypoints.providers.usage import rate_limit_policy
from entrypoints.settings import SettingsError, load_settings
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


async def test_several_windows_all_apply_and_the_429_names_the_one_that_was_hit() -> None:
    shared = limits(MemoryRateLimiter(), chat=(RateLimit(5, 3600), RateLimit(2, 60)))
    user = f"user:{uuid.uuid4()}"
    assert (await shared.check("chat", user)).remaining == 1  # type: ignore[union-attr]
    await shared.check("chat", user)
    with pytest.raises(TooManyRequests) as minute:
        await shared.check("chat", user)
    assert "2 per minute" in minute.value.detail and minute.value.limit == 2
    assert 1 <= minute.value.retry_after_s <= 60
    hourly = limits(MemoryRateLimiter(), chat=(RateLimit(5, 1), RateLimit(2, 3600)))
    for _ in range(2):
        await hourly.check("chat", user)
    with pytest.raises(TooManyRequests) as hour:
        await hourly.check("chat", user)
    assert "2 per hour" in hour.value.detail and hour.value.limit == 2


async def test_allowed_answers_carry_the_window_closest_to_its_limit() -> None:
    shared = limits(MemoryRateLimiter(), default=(RateLimit(10, 1), RateLimit(3, 60)))
    decision = await shared.check("default", "ip:10.0.0.1")
    assert decision is not None and (decision.limit, decision.remaining) == (3, 2)


@pytest.mark.parametrize(
    ("text", "windows"),
    [
        ("1/second;10/minute", [(1, 1), (10, 60)]),
        ("10 per minute; 1 per second", [(1, 1), (10, 60)]),
        ("5 per 10 seconds", [(5, 10)]),
        ("100/day;", [(100, 86400)]),
        ("3/2h", [(3, 7200)]),
    ],
)
def test_limit_strings_parse_into_windows_shortest_first(text: str, windows: list) -> None:
    parsed = parse_limit_string(text)
    assert [(w.amount, w.period_s) for w in parsed] == windows
    assert [describe_window(w) for w in parse_limit_string("5 per 10 seconds;2/hour")] == [
        "5 per 10 seconds",
        "2 per hour",
    ]


@pytest.mark.parametrize("text", ["", "ten/minute", "1/fortnight", "0/second", "1/0 minutes"])
def test_bad_limit_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"limit|unit|positive"):
        parse_limit_string(text)


def test_a_bad_limit_string_in_the_environment_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="PARLEY_LIMITS_CHAT"):
        load_settings({"PARLEY_LIMITS_CHAT": "1/fortnight"}, toml_path="/nonexistent.toml")
    with pytest.raises(SettingsError, match="PARLEY_LIMITS_DEFAULT"):
        load_settings({"PARLEY_LIMITS_DEFAULT": "lots"}, toml_path="/nonexistent.toml")
    policy = rate_limit_policy(
        load_settings({"PARLEY_LIMITS_CHAT": "1/second;10/minute"}, toml_path="/nonexistent.toml")
    )
    assert policy.for_group("chat") == (RateLimit(1, 1), RateLimit(10, 60))
    assert policy.for_group("default") == (RateLimit(600, 60),)
