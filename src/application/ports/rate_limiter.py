"""Generic rate limiting: login throttling, route limits, WebSocket messages."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.errors import TooManyRequests, Unavailable


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``amount`` hits per ``period_s`` seconds."""

    amount: int
    period_s: int


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_after_s: float
    retry_after_s: float

    def raise_if_denied(self, detail: str = "too many requests; retry later") -> None:
        if not self.allowed:
            raise TooManyRequests(
                detail,
                retry_after_s=self.retry_after_s,
                limit=self.limit,
                remaining=self.remaining,
                reset_s=self.reset_after_s,
            )


class RateLimiterUnavailable(Unavailable):
    """The limiter's backend is down; callers fail closed rather than stop limiting."""

    code = "RATE_LIMITER_UNAVAILABLE"
    title = "Rate limiter unavailable"


class RateLimiter(Protocol):
    @abstractmethod
    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        """Count one hit against ``key`` atomically (across instances for shared backends)
        and say whether it was within ``limit``. A denied hit is not counted."""


class ChatSendLimit(Protocol):
    """The per-user budget of chat sends, one window for every transport (REST, SSE,
    WebSocket, CLI, /v1): the chat use cases apply it, not the transports."""

    @abstractmethod
    async def check(self, user_id: UUID) -> RateDecision | None:
        """Count one send; raise RATE_LIMITED when over. The decision feeds RateLimit-*
        headers (None: limits are off)."""


class NoChatSendLimit(ChatSendLimit):
    """Unlimited (scripts and tests that wire no limiter)."""

    async def check(self, user_id: UUID) -> RateDecision | None:
        return None
