"""LLM wiring: the model catalog, one adapter per provider, and the router over them."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from application.llm.health import LLMHealthProbe
from application.llm.router import LLMRouter
from domain.catalog import ModelCatalog
from entrypoints.llm_registry import (
    build_catalog,
    build_llm_providers,
    provider_limits,
    routing_policy,
)
from entrypoints.settings import Settings


class LLMWiring(Provider):
    @provide(scope=Scope.APP)
    def catalog(self, settings: Settings) -> ModelCatalog:
        return build_catalog(settings)

    @provide(scope=Scope.APP)
    async def router(self, settings: Settings, catalog: ModelCatalog) -> AsyncIterator[LLMRouter]:
        adapters = build_llm_providers(settings)
        yield LLMRouter(
            adapters, catalog, routing_policy(settings), limits=provider_limits(settings)
        )
        for adapter in adapters.values():
            closer = getattr(adapter, "aclose", None)
            if closer is not None:
                await closer()

    @provide(scope=Scope.APP)
    def health_probe(self, router: LLMRouter) -> LLMHealthProbe:
        return LLMHealthProbe(router)


def providers(settings: Settings) -> list[Provider]:
    return [LLMWiring()]
