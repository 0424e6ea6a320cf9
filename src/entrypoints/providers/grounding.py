"""Grounded replies: the configured context sources, the gatherer, their health probes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from dishka import Provider, Scope, decorate, provide

from adapters.context.history_source import HistoryContextSource
from adapters.prometheus.metrics import PrometheusMetrics
from application.grounding.catalog import ContextSourceCatalog
from application.grounding.gather_context import GatherContext
from application.grounding.health import ContextSourceProbe
from application.grounding.step import GroundingStep
from application.health.readiness import HealthProbe
from application.ports.context_source import ContextSource
from application.ports.embedder import Embedder
from application.ports.turn_hooks import TurnSeams
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.vector_index import VectorIndex
from application.search.index_status import IndexStatus
from entrypoints.settings import ContextSourceSettings, Settings, SettingsError

if TYPE_CHECKING:
    from adapters.context.http_source import HttpContextSource


def secret_headers(name: str, source: ContextSourceSettings) -> dict[str, str]:
    """Header values from the environment variables the config names (never the file)."""
    headers = {}
    for header, variable in source.headers_env.items():
        value = os.environ.get(variable)
        if value is None:
            raise SettingsError(
                f"[context_sources.{name}] headers_env.{header}: {variable} is not set"
            )
        headers[header] = value
    return headers


class GroundingProvider(Provider):
    scope = Scope.APP

    @provide
    async def gather(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        embedder: Embedder,
        index: VectorIndex,
        status: IndexStatus,
        metrics: PrometheusMetrics,
    ) -> AsyncIterator[GatherContext]:
        sources: dict[str, ContextSource] = {}
        http: list[HttpContextSource] = []
        for name, config in settings.context_sources.items():
            timeout_s = config.timeout_ms / 1000
            if config.kind == "http":
                # Imported only when an http source is configured: it brings httpx.
                from adapters.context.http_source import HttpContextSource

                source = HttpContextSource(
                    name, config.url, timeout_s=timeout_s, max_bytes=config.max_bytes,
                    headers=secret_headers(name, config),
                )  # fmt: skip
                http.append(source)
                sources[name] = source
            else:
                sources[name] = HistoryContextSource(
                    name, uow_factory, embedder, index, status,
                    timeout_s=timeout_s, limit=config.limit,
                )  # fmt: skip
        yield GatherContext(sources, metrics)
        for source in http:
            await source.close()

    @provide
    def catalog(self, settings: Settings) -> ContextSourceCatalog:
        return ContextSourceCatalog.of(settings.context_sources)

    @decorate
    def ground_turns(self, seams: TurnSeams, gather: GatherContext) -> TurnSeams:
        """Always joined: a conversation naming a source the server no longer configures
        still gets its reply, with that source recorded ``unavailable``."""
        return seams.with_prompt_step(GroundingStep(gather))

    @decorate
    def probes(self, probes: list[HealthProbe], gather: GatherContext) -> list[HealthProbe]:
        return [*probes, *(ContextSourceProbe(s) for s in gather.sources)]


def providers(settings: Settings) -> list[Provider]:
    return [GroundingProvider()]
