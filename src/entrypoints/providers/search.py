"""Search wiring: embedder, vector index, text search, indexing and the chat message hooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.embeddings.hashing import HashingEmbedder
from adapters.persistence.text_search import PostgresTextSearch, SqliteTextSearch
from adapters.vector.usearch_index import SERVED_GRAPH_DTYPE, UsearchVectorIndex
from application.ports.embedder import Embedder
from application.ports.message_hooks import MessageHooks
from application.ports.text_search import TextSearch
from application.ports.vector_index import VectorIndex
from application.search.catch_up import CatchUpIndex
from application.search.forget_conversation import ForgetConversationVectors
from application.search.health import VectorIndexProbe
from application.search.hooks import SearchIndexingHooks
from application.search.imported_indexing import ImportedMessagesIndexing
from application.search.index_messages import IndexMessages
from application.search.index_status import IndexStatus
from application.search.indexing_queue import IndexingQueue
from application.search.maintenance import IndexMaintenance
from application.search.reindex import Reindex
from application.search.search_messages import SearchMessages
from application.search.similar_prompts import SimilarPrompts
from entrypoints.settings import Settings

INDEX_FILE = Path("search") / "vector-index.npz"


class EmbedderProvider(Provider):
    """The configured embedder (APP scope: one per process)."""

    @provide(scope=Scope.APP)
    async def embedder(self, settings: Settings) -> AsyncIterator[Embedder]:
        config = settings.embeddings
        if config.provider == "hashing":
            yield HashingEmbedder(config.dim)
            return
        # Imported here: the openai SDK costs about a second of cold start, and only
        # this embedder needs it.
        from openai import AsyncOpenAI

        from adapters.embeddings.openai_embedder import OpenAIEmbedder

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


class SearchProvider(Provider):
    scope = Scope.APP

    @provide
    def index(self, settings: Settings, embedder: Embedder) -> VectorIndex:
        return UsearchVectorIndex(
            model=embedder.model,
            dim=embedder.dim,
            path=Path(settings.data_dir) / INDEX_FILE,
            exact_max=settings.embeddings.exact_search_max,
            expansion_search=settings.embeddings.hnsw_expansion_search,
            graph_dtype=SERVED_GRAPH_DTYPE,
        )

    @provide
    def status(self, embedder: Embedder) -> IndexStatus:
        return IndexStatus(model=embedder.model)

    @provide
    def text_search(
        self, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
    ) -> TextSearch:
        if settings.uses_postgres:
            return PostgresTextSearch(session_factory)
        return SqliteTextSearch(session_factory)

    index_messages = provide(IndexMessages)
    forget = provide(ForgetConversationVectors)
    catch_up = provide(CatchUpIndex)
    reindex = provide(Reindex)
    probe = provide(VectorIndexProbe)

    @provide
    async def queue(
        self, settings: Settings, index_messages: IndexMessages, forget: ForgetConversationVectors
    ) -> AsyncIterator[IndexingQueue]:
        queue = IndexingQueue(index_messages, forget, maxsize=settings.embeddings.queue_size)
        yield queue
        await queue.stop()

    @provide
    def hooks(self, queue: IndexingQueue) -> MessageHooks:
        return SearchIndexingHooks(queue)

    @provide
    def imported_indexing(self, catch_up: CatchUpIndex) -> ImportedMessagesIndexing:
        return ImportedMessagesIndexing(lambda: catch_up(embed_backlog=True))

    @provide
    def maintenance(
        self,
        settings: Settings,
        catch_up: CatchUpIndex,
        index: VectorIndex,
        queue: IndexingQueue,
        status: IndexStatus,
    ) -> IndexMaintenance:
        return IndexMaintenance(
            catch_up, index, queue, status, sync_interval_s=settings.embeddings.sync_interval_s
        )

    search_messages = provide(SearchMessages, scope=Scope.REQUEST)
    similar_prompts = provide(SimilarPrompts, scope=Scope.REQUEST)


def providers(settings: Settings) -> list[Provider]:
    return [EmbedderProvider(), SearchProvider()]
