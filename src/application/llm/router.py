"""LLMRouter: the one way the application talks to models (chat, gateway, jobs, CLI).

It resolves a model id to its spec, sends the request to that model's provider, and keeps
the upstream honest: bounded retries with backoff, Retry-After, a circuit breaker per
provider, first-token / idle / total timeouts, and ordered fallbacks.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import structlog

from application.llm.attempts import Attempts, Sleep
from application.llm.breaker import BreakerState, CircuitBreaker
from application.llm.policy import ProviderLimits, RoutingPolicy
from application.llm.requests import (
    complete_within,
    continuation,
    upstream_request,
)
from application.llm.upstream_stream import UpstreamStream
from application.ports.llm import (
    ChatMessage,
    Chunk,
    Completion,
    LLMProvider,
    ProviderBadRequest,
    ProviderProtocolError,
    ProviderUnavailable,
)
from domain.catalog import ModelCatalog, ModelSpec
from domain.errors import DomainError

log = structlog.get_logger("parley.llm")


@dataclass(frozen=True, slots=True)
class RoutedCompletion:
    completion: Completion
    model_id: str


@dataclass(frozen=True, slots=True)
class RoutedChunk:
    chunk: Chunk
    model_id: str
    fallback: bool = False


class LLMRouter:
    """Business rules:
    - a model's provider is tried first, then its fallbacks in order (unknown ids skipped);
    - a provider's 4xx (bad request) is final: no retry, no fallback;
    - 5xx, timeouts, connection and protocol errors are retried with exponential backoff and
      jitter, up to the provider's ``max_retries``, then the next fallback is tried;
    - 429 is retried after its Retry-After when that is within ``max_retry_after_s``;
    - an open circuit skips its provider without calling it;
    - a stream is only retried before its first chunk, so text is never duplicated; a
      failure after that ends the stream with the error, or (``mid_stream="fallback"``)
      continues on the next fallback model, whose chunks carry ``fallback=True``;
    - ``max_tokens`` is bounded by each model's cap and only ``allowed_params`` go upstream.
    """

    def __init__(
        self,
        providers: Mapping[str, LLMProvider],
        catalog: ModelCatalog,
        policy: RoutingPolicy | None = None,
        *,
        limits: Mapping[str, ProviderLimits] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.catalog = catalog
        self.policy = policy or RoutingPolicy()
        self.providers = dict(providers)
        self.breakers = {n: CircuitBreaker(n, self.policy.breaker, clock) for n in providers}
        self._limits = dict(limits or {})
        self._sleep = sleep
        self._jitter = jitter

    def resolve(self, model_id: str | None) -> ModelSpec:
        """The spec for ``model_id`` (None: the default model); raises ModelNotFound."""
        return self.catalog.get(model_id)

    def breaker_states(self) -> dict[str, BreakerState]:
        return {name: breaker.state for name, breaker in self.breakers.items()}

    async def complete(
        self,
        spec: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> RoutedCompletion:
        last_error: DomainError | None = None
        for candidate in self._chain(spec):
            request = upstream_request(candidate, messages, max_tokens, temperature, extra)
            call = partial(
                complete_within,
                self.providers[candidate.provider],
                request,
                self._limits_for(candidate.provider).total_timeout_s,
            )
            try:
                completion = await self._attempts(candidate).run(call)
            except ProviderBadRequest:
                raise
            except DomainError as exc:
                last_error = exc
                log.warning("llm_model_failed", model=candidate.id, code=exc.code)
                continue
            if len(completion.content) > self.policy.max_response_chars:
                raise ProviderProtocolError("the provider's reply exceeds the size limit")
            return RoutedCompletion(completion, candidate.id)
        raise last_error or ProviderUnavailable("no provider could serve this model")

    async def stream(
        self,
        spec: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[RoutedChunk]:
        chain = self._chain(spec)
        emitted: list[str] = []
        size = 0
        last_error: DomainError | None = None
        for index, candidate in enumerate(chain):
            prompt = continuation(messages, emitted) if emitted else messages
            request = upstream_request(candidate, prompt, max_tokens, temperature, extra)
            upstream = UpstreamStream(
                self.providers[candidate.provider],
                request,
                self._limits_for(candidate.provider),
                self.breakers[candidate.provider],
            )
            try:
                await self._attempts(candidate).run(upstream.open)
            except ProviderBadRequest:
                raise
            except DomainError as exc:
                last_error = exc
                log.warning("llm_model_failed", model=candidate.id, code=exc.code)
                continue
            fallback = index > 0
            try:
                async for chunk in upstream:
                    size += len(chunk.delta)
                    if size > self.policy.max_response_chars:
                        raise ProviderProtocolError("the provider's reply exceeds the size limit")
                    if chunk.delta:
                        emitted.append(chunk.delta)
                    yield RoutedChunk(chunk, candidate.id, fallback)
                return
            except DomainError as exc:
                upstream.failed()
                if self.policy.mid_stream != "fallback" or index == len(chain) - 1:
                    raise
                last_error = exc
                log.warning("llm_mid_stream_fallback", model=candidate.id, code=exc.code)
            finally:
                await upstream.aclose()
        raise last_error or ProviderUnavailable("no provider could serve this model")

    def _chain(self, spec: ModelSpec) -> list[ModelSpec]:
        chain = [spec]
        for model_id in spec.fallbacks:
            if model_id not in {m.id for m in chain} and model_id in self.catalog.ids():
                chain.append(self.catalog.get(model_id))
        return [m for m in chain if m.provider in self.providers]

    def _attempts(self, spec: ModelSpec) -> Attempts:
        return Attempts(
            self.breakers[spec.provider],
            self._limits_for(spec.provider).max_retries,
            self.policy,
            self._sleep,
            self._jitter,
        )

    def _limits_for(self, provider: str) -> ProviderLimits:
        return self._limits.get(provider, self.policy.default_limits)
