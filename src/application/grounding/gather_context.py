"""GatherContext: ask a conversation's context sources, in parallel, before a turn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from application.ports.context_source import (
    ContextMetrics,
    ContextQuery,
    ContextSource,
    ContextSourceUnavailable,
    NoContextMetrics,
)
from domain.grounding import ContextItem, SourceResult, SourceStatus, context_block

log = structlog.get_logger("parley.grounding")


@dataclass(frozen=True, slots=True)
class Grounding:
    results: list[SourceResult]
    block: str | None
    """The delimited data block for the prompt; None when no source returned anything."""


class GatherContext:
    """Business rules:
    - only sources named by the conversation and configured on the server are asked (an
      unconfigured name, left after a config change, is reported ``unavailable``);
    - all are asked at once, each bounded by its own timeout: the turn waits at most for
      the slowest timeout, never for a hanging source;
    - a failure or timeout never fails the turn: that source is ``unavailable`` or
      ``timeout`` with no items, the others still count;
    - each source contributes at most ``max_items`` items of at most ``max_item_chars``
      characters, quoted into the prompt as data.
    """

    def __init__(
        self,
        sources: Mapping[str, ContextSource],
        metrics: ContextMetrics | None = None,
        max_items: int = 5,
        max_item_chars: int = 2000,
    ) -> None:
        self._sources = dict(sources)
        self._metrics = metrics or NoContextMetrics()
        self._max_items = max_items
        self._max_item_chars = max_item_chars

    @property
    def names(self) -> list[str]:
        return sorted(self._sources)

    @property
    def sources(self) -> list[ContextSource]:
        return [self._sources[n] for n in self.names]

    async def __call__(self, names: Sequence[str], query: ContextQuery) -> Grounding:
        if not names:
            return Grounding([], None)
        results = list(await asyncio.gather(*(self._ask(name, query) for name in names)))
        return Grounding(results, context_block(results))

    async def _ask(self, name: str, query: ContextQuery) -> SourceResult:
        source = self._sources.get(name)
        if source is None:
            return SourceResult(name, "unavailable", detail="not configured")
        started = time.perf_counter()
        status: SourceStatus = "ok"
        items: list[ContextItem] = []
        detail = None
        try:
            items = await asyncio.wait_for(source.fetch(query), source.timeout_s)
        except TimeoutError:
            status, detail = "timeout", f"no answer within {source.timeout_s:g} s"
        except ContextSourceUnavailable as exc:
            status, detail = "unavailable", exc.detail
        except Exception as exc:  # an adapter bug must not fail the turn either
            log.warning("context_source_crashed", source=name, error=type(exc).__name__)
            status, detail = "unavailable", "the source failed"
        self._metrics.context_source_call(name, status, time.perf_counter() - started)
        if status != "ok":
            log.info("context_source_degraded", source=name, status=status)
        return SourceResult(name, status, self._bounded(items), detail)

    def _bounded(self, items: list[ContextItem]) -> list[ContextItem]:
        cap = self._max_item_chars
        return [
            ContextItem(i.text[:cap], i.title[:200] if i.title else None, i.url)
            for i in items[: self._max_items]
        ]
