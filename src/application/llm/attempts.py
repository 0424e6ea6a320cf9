"""One model's attempts: the retry loop around a call, guarded by the provider's breaker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from application.llm.breaker import CircuitBreaker
from application.llm.policy import RoutingPolicy
from application.ports.llm import (
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.errors import DomainError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

RETRYABLE = (ProviderUnavailable, ProviderTimeout, ProviderProtocolError)
"""Failures a retry may fix (5xx, timeouts, connection and protocol errors); they also count
against the breaker. Client errors (4xx) do neither."""

log = structlog.get_logger("parley.llm")


class Attempts:
    """Business rules: at most ``1 + max_retries`` calls; exponential backoff with jitter
    between them; a 429 waits its Retry-After when that is short enough, else gives up at
    once; an open circuit refuses without calling; an unexpected exception from an adapter
    counts as the provider being unavailable (it never escapes as a crash)."""

    def __init__(
        self,
        breaker: CircuitBreaker,
        max_retries: int,
        policy: RoutingPolicy,
        sleep: Sleep,
        jitter: Callable[[], float],
    ) -> None:
        self._breaker = breaker
        self._max_retries = max_retries
        self._policy = policy
        self._sleep = sleep
        self._jitter = jitter

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            if not self._breaker.allow():
                raise ProviderUnavailable(
                    f"provider {self._breaker.name!r} is failing; its circuit is open"
                )
            try:
                result = await _translated(call, self._breaker.name)
            except ProviderRateLimited as exc:
                self._breaker.release()
                if (
                    attempt >= self._max_retries
                    or exc.retry_after_s > self._policy.max_retry_after_s
                ):
                    raise
                delay, code = exc.retry_after_s, exc.code
            except RETRYABLE as exc:
                self._breaker.record_failure()
                if attempt >= self._max_retries:
                    raise
                delay, code = self.backoff(attempt), exc.code
            except BaseException:
                self._breaker.release()
                raise
            else:
                self._breaker.record_success()
                return result
            attempt += 1
            log.info(
                "llm_retry",
                provider=self._breaker.name,
                attempt=attempt,
                delay_s=round(delay, 3),
                code=code,
            )
            await self._sleep(delay)

    def backoff(self, attempt: int) -> float:
        """Exponential, capped, with "equal jitter" so retries from many requests spread out."""
        ceiling = min(self._policy.max_backoff_s, self._policy.retry_backoff_s * 2.0**attempt)
        return ceiling * (0.5 + self._jitter() / 2)


async def _translated(call: Callable[[], Awaitable[T]], provider: str) -> T:
    try:
        return await call()
    except DomainError:
        raise
    except Exception as exc:  # an adapter bug must not take the request down with a traceback
        log.error("llm_adapter_error", provider=provider, error_type=type(exc).__name__)
        raise ProviderUnavailable(f"provider {provider!r} failed unexpectedly") from None
