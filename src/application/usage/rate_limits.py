"""Request rate limits per route group, and the chat limit every transport shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, cast
from uuid import UUID

from application.ports.metrics import Metrics
from application.ports.rate_limiter import ChatSendLimit, RateDecision, RateLimit, RateLimiter
from application.usage.limit_strings import describe_window

RouteGroup = Literal["chat", "login", "default"]

_MESSAGES: dict[str, str] = {
    "chat": "too many chat messages ({window}); slow down and retry later",
    "login": "too many sign-in requests from this address ({window}); retry later",
    "default": "too many requests ({window}); retry later",
}

Windows = tuple[RateLimit, ...]


def _windows(value: RateLimit | Sequence[RateLimit]) -> Windows:
    windows = (value,) if isinstance(value, RateLimit) else tuple(value)
    if not windows:
        raise ValueError("a route group needs at least one window")
    return tuple(sorted(windows, key=lambda w: w.period_s))


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """Defaults from the public contract: chat sends 60/min per user (every transport
    together), sign-in 30/min per address, everything else 600/min per caller. Each group
    takes one window or several (``1/second;10/minute``); a request must fit them all."""

    chat: RateLimit | Sequence[RateLimit] = field(default_factory=lambda: RateLimit(60, 60))
    login: RateLimit | Sequence[RateLimit] = field(default_factory=lambda: RateLimit(30, 60))
    default: RateLimit | Sequence[RateLimit] = field(default_factory=lambda: RateLimit(600, 60))
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("chat", "login", "default"):
            object.__setattr__(self, name, _windows(getattr(self, name)))

    def for_group(self, group: RouteGroup) -> Windows:
        # __post_init__ has already made each group a sorted tuple of windows.
        chosen = self.chat if group == "chat" else self.login if group == "login" else self.default
        return cast(Windows, chosen)


class RateLimits:
    """Business rules: sliding windows per (group, subject), global across instances with
    a shared limiter; a denied request raises RATE_LIMITED (429) whose detail names the
    window that was hit, with that window's Retry-After and RateLimit-* values;
    ``subject`` identifies the caller (``user:<id>``, ``key:<id>``, ``ip:<address>``);
    chat is always counted per user, whatever the transport.

    Several windows are hit shortest first and the first refusal stops: each hit is
    atomic in the limiter, so no window ever admits more than its amount, even across
    instances; a request refused by a longer window has used a slot of the shorter ones
    (harmless: the longer window stays closed longer than they do). Allowed answers carry
    the headers of the window closest to its limit."""

    def __init__(self, limiter: RateLimiter, policy: RateLimitPolicy, metrics: Metrics) -> None:
        self._limiter = limiter
        self._policy = policy
        self._metrics = metrics

    @property
    def enabled(self) -> bool:
        return self._policy.enabled

    async def check(self, group: RouteGroup, subject: str) -> RateDecision | None:
        """The decision (for RateLimit-* headers), or None when limits are switched off."""
        if not self._policy.enabled:
            return None
        tightest: RateDecision | None = None
        for window in self._policy.for_group(group):
            decision = await self._limiter.hit(f"rl:{group}:{subject}", window)
            if not decision.allowed:
                self._metrics.rate_limited(group)
                decision.raise_if_denied(_MESSAGES[group].format(window=describe_window(window)))
            if tightest is None or _closer_to_limit(decision, tightest):
                tightest = decision
        return tightest


def _closer_to_limit(a: RateDecision, b: RateDecision) -> bool:
    return (a.remaining, -a.reset_after_s) < (b.remaining, -b.reset_after_s)


class ChatRateLimit(ChatSendLimit):
    """The per-user chat-send limit, applied by SendMessage and CompleteChat, so REST, SSE,
    WebSocket, CLI and /v1 sends count in one window whatever carried them."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits

    async def check(self, user_id: UUID) -> RateDecision | None:
        return await self._limits.check("chat", f"user:{user_id}")
