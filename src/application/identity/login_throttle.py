"""Throttling of password guesses, per account and per client IP."""

from __future__ import annotations

import hashlib

from application.identity.config import IdentityConfig
from application.ports.rate_limiter import RateLimit, RateLimiter

_MINUTE = 60


class LoginThrottle:
    """Sliding one-minute windows; nothing is ever locked permanently, an attacker is only
    slowed down. Accounts are keyed by a digest so no email lands in the limiter's store."""

    def __init__(self, limiter: RateLimiter, config: IdentityConfig) -> None:
        self._limiter = limiter
        self._per_account = RateLimit(config.login_per_account_per_minute, _MINUTE)
        self._per_ip = RateLimit(config.login_per_ip_per_minute, _MINUTE)

    async def check(self, *, email: str, client_ip: str | None) -> None:
        """Raise RATE_LIMITED (429, with Retry-After) when either limit is used up."""
        if client_ip:
            by_ip = await self._limiter.hit(f"login:ip:{client_ip}", self._per_ip)
            by_ip.raise_if_denied("too many sign-in attempts from this address; retry later")
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]
        by_account = await self._limiter.hit(f"login:account:{digest}", self._per_account)
        by_account.raise_if_denied("too many sign-in attempts for this account; retry later")
