"""Grounded replies: the configured context sources, the gatherer, their health probes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
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
from entrypoints.settings import Settings, SettingsError

if TYPE_CHECKING:
    from adapters.context.http_source import HttpContextSource


@dataclass(frozen=True, slots=True)
class ContextSourceSecrets:
    """The header values of each http context source, read once from the environment the
    settings were loaded from (never from the file); the sources get the values."""

    headers: Mapping[str, Mapping[str, str]]

    @classmethod
    def read(cls, settings: Settings, environ: Mapping[str, str]) -> ContextSourceSecrets:
        headers: dict[str, dict[str, str]] = {}
        for name, source in settings.context_sources.items():
            values = headers.setdefault(name, {})
            for header, variable in source.headers_env.items():
                value = environ.get(variable)
                if value is None:
                    raise SettingsError(
                        f"[context_sources.{name}] headers_env.{header}: {variable} is not set"
                    )
                values[header] = value
        return cls(headers)


def secrets_provider(secrets: ContextSourceSecrets) -> Provider:
    """An override for a container whose settings came from an explicit environment."""
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: secrets, provides=ContextSourceSecrets)
    return provider


class GroundingProvider(Provider):
    scope = Scope.APP

    @provide
    def secrets(self, settings: Settings) -> ContextSourceSecrets:
        return ContextSourceSecrets.read(settings, os.environ)

    @provide
    async def gather(
        self,
        settings: Settings,
        secrets: ContextSourceSecrets,
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
                    headers=dict(secrets.headers[name]),
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
