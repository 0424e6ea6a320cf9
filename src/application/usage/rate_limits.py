"""Request rate limits per route group, and the chat limit every transport shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from application.ports.metrics import Metrics
from application.ports.rate_limiter import ChatSendLimit, RateDecision, RateLimit, RateLimiter

RouteGroup = Literal["chat", "login", "default"]

_MESSAGES: dict[str, str] = {
    "chat": "too many chat messages; slow down and retry later",
    "login": "too many sign-in requests from this address; retry later",
    "default": "too many requests; retry later",
}


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """Defaults from the public contract: chat sends 60/min per user (every transport
    together), sign-in 30/min per address, everything else 600/min per caller."""

    chat: RateLimit = field(default_factory=lambda: RateLimit(60, 60))
    login: RateLimit = field(default_factory=lambda: RateLimit(30, 60))
    default: RateLimit = field(default_factory=lambda: RateLimit(600, 60))
    enabled: bool = True

    def for_group(self, group: RouteGroup) -> RateLimit:
        return self.chat if group == "chat" else self.login if group == "login" else self.default


class RateLimits:
    """Business rules: one sliding window per (group, subject), global across instances
    with a shared limiter; a denied request raises RATE_LIMITED (429) with Retry-After and
    RateLimit-* values; ``subject`` identifies the caller (``user:<id>``, ``key:<id>``,
    ``ip:<address>``); chat is always counted per user, whatever the transport."""

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
        decision = await self._limiter.hit(f"rl:{group}:{subject}", self._policy.for_group(group))
        if not decision.allowed:
            self._metrics.rate_limited(group)
            decision.raise_if_denied(_MESSAGES[group])
        return decision


class ChatRateLimit(ChatSendLimit):
    """The per-user chat-send limit, applied by SendMessage and CompleteChat, so REST, SSE,
    WebSocket, CLI and /v1 sends count in one window whatever carried them."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits

    async def check(self, user_id: UUID) -> RateDecision | None:
        return await self._limits.check("chat", f"user:{user_id}")
