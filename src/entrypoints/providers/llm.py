"""LLM wiring: the model catalog, one adapter per provider, and the router over them."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from application.caching.completion_cache import CompletionCache
from application.gateway.complete_chat import CompleteChat, GatewayLimits
from application.gateway.embed_texts import EmbedTexts
from application.llm.health import LLMHealthProbe
from application.llm.router import LLMRouter
from application.ports.embedder import Embedder
from application.ports.rate_limiter import ChatSendLimit
from application.ports.spend_guard import SpendGuard
from application.ports.tokenizer import Tokenizer
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


class GatewayWiring(Provider):
    """The /v1 use cases are stateless: one instance per process keeps the hot path lean."""

    @provide(scope=Scope.APP)
    def complete_chat(
        self,
        settings: Settings,
        router: LLMRouter,
        tokenizer: Tokenizer,
        spending: SpendGuard,
        cache: CompletionCache,
        chat_limit: ChatSendLimit,
    ) -> CompleteChat:
        limits = GatewayLimits(
            server_max_tokens=settings.llm.max_tokens,
            max_messages=settings.llm.max_request_messages,
        )
        return CompleteChat(router, limits, tokenizer, spending, cache, chat_limit)

    @provide(scope=Scope.APP)
    def embed_texts(self, settings: Settings, embedder: Embedder) -> EmbedTexts:
        return EmbedTexts(embedder, max_chars=settings.chat.max_message_chars)


def providers(settings: Settings) -> list[Provider]:
    return [LLMWiring(), GatewayWiring()]
