"""MeteredProvider: an LLMProvider decorator reporting each upstream call's latency and
outcome, so every provider is observed the same way whoever calls it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from application.ports.llm import Chunk, Completion, CompletionRequest, LLMProvider
from application.ports.metrics import Metrics
from domain.errors import DomainError


class MeteredProvider(LLMProvider):
    def __init__(self, inner: LLMProvider, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self.name = inner.name

    def __getattr__(self, attribute: str) -> Any:
        # health(), aclose() and whatever else an adapter offers pass straight through.
        return getattr(self._inner, attribute)

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            completion = await self._inner.complete(request)
        except DomainError as exc:
            self._report(request, started, exc.code)
            raise
        self._report(request, started, None)
        return completion

    async def stream(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        started = time.perf_counter()
        error: str | None = None
        try:
            async for chunk in self._inner.stream(request):
                yield chunk
        except DomainError as exc:
            error = exc.code
            raise
        finally:
            self._report(request, started, error)

    async def models(self) -> list[str]:
        return await self._inner.models()

    def _report(self, request: CompletionRequest, started: float, error: str | None) -> None:
        seconds = time.perf_counter() - started
        self._metrics.provider_call(self.name, request.model, seconds, error)
