"""One upstream stream, watched: first-token, idle-gap and total timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import structlog

from application.llm.breaker import CircuitBreaker
from application.llm.policy import ProviderLimits
from application.ports.llm import (
    Chunk,
    CompletionRequest,
    LLMProvider,
    ProviderProtocolError,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.errors import DomainError

log = structlog.get_logger("parley.llm")


class UpstreamStream:
    """``open()`` starts the provider's stream and waits for its first chunk (so retries can
    happen before any text reached the caller); iterating yields that chunk and the rest,
    each within the idle timeout and all within the total budget."""

    def __init__(
        self,
        provider: LLMProvider,
        request: CompletionRequest,
        limits: ProviderLimits,
        breaker: CircuitBreaker,
    ) -> None:
        self._provider = provider
        self._request = request
        self._limits = limits
        self._breaker = breaker
        self._source: AsyncIterator[Chunk] | None = None
        self._first: Chunk | None = None
        self._deadline = 0.0

    async def open(self) -> None:
        await self.aclose()  # a previous attempt's stream
        self._deadline = asyncio.get_running_loop().time() + self._limits.total_timeout_s
        self._source = self._provider.stream(self._request)
        try:
            self._first = await self._next(self._limits.first_token_timeout_s, "first token")
        except StopAsyncIteration:
            raise ProviderProtocolError("the provider ended the stream without a reply") from None

    async def __aiter__(self) -> AsyncIterator[Chunk]:
        if self._first is None:
            return
        first, self._first = self._first, None
        yield first
        while True:
            try:
                chunk = await self._next(self._limits.idle_timeout_s, "next chunk")
            except StopAsyncIteration:
                return
            yield chunk

    def failed(self) -> None:
        """The stream broke after its first chunk: that counts against the provider."""
        self._breaker.record_failure()

    async def aclose(self) -> None:
        source, self._source = self._source, None
        closer = getattr(source, "aclose", None)
        if closer is None:
            return
        try:
            await closer()
        except Exception as exc:  # closing a broken upstream must not mask the real error
            log.debug("llm_stream_close_failed", error_type=type(exc).__name__)

    async def _next(self, limit_s: float, waiting_for: str) -> Chunk:
        assert self._source is not None
        remaining = self._deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise ProviderTimeout(f"provider {self._provider.name!r} exceeded the total time limit")
        try:
            async with asyncio.timeout(min(limit_s, remaining)):
                return await anext(self._source)
        except TimeoutError:
            raise ProviderTimeout(
                f"provider {self._provider.name!r} sent no {waiting_for} in time"
            ) from None
        except (DomainError, StopAsyncIteration):
            raise
        except Exception as exc:  # adapter bug mid-stream: a bounded error, not a crash
            log.error(
                "llm_adapter_error", provider=self._provider.name, error_type=type(exc).__name__
            )
            raise ProviderUnavailable(
                f"provider {self._provider.name!r} failed unexpectedly"
            ) from None
