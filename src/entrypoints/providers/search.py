"""Search wiring: the embedder, vector index, text search and the chat message hooks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from openai import AsyncOpenAI

from adapters.embeddings.hashing import HashingEmbedder
from adapters.embeddings.openai_embedder import OpenAIEmbedder
from application.ports.embedder import Embedder
from entrypoints.settings import Settings


class EmbedderProvider(Provider):
    """The configured embedder (APP scope: one per process)."""

    @provide(scope=Scope.APP)
    async def embedder(self, settings: Settings) -> AsyncIterator[Embedder]:
        config = settings.embeddings
        if config.provider == "hashing":
            yield HashingEmbedder(config.dim)
            return
        client = AsyncOpenAI(
            base_url=config.base_url or settings.llm.base_url or None,
            api_key=config.api_key or settings.llm.api_key or "unset",
            timeout=config.timeout_s,
            max_retries=2,
        )
        yield OpenAIEmbedder(
            client, model=config.model, dim=config.dim, batch_size=config.batch_size
        )
        await client.close()


def providers(settings: Settings) -> list[Provider]:
    return [EmbedderProvider()]
