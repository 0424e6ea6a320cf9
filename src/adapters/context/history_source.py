"""The ``history`` context source: the user's own most similar past prompts, found by the
existing semantic search, restricted to that user."""

from __future__ import annotations

from application.ports.context_source import ContextQuery, ContextSource, ContextSourceUnavailable
from application.ports.embedder import Embedder
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.vector_index import VectorIndex
from application.search.index_status import IndexStatus
from application.search.similar_prompts import SimilarPrompts, SimilarPromptsQuery
from domain.errors import DomainError
from domain.grounding import ContextItem


class HistoryContextSource(ContextSource):
    kind = "history"

    def __init__(
        self,
        name: str,
        uow_factory: UnitOfWorkFactory,
        embedder: Embedder,
        index: VectorIndex,
        status: IndexStatus,
        *,
        timeout_s: float,
        limit: int = 3,
        min_score: float = 0.2,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self._uow_factory = uow_factory
        self._embedder = embedder
        self._index = index
        self._status = status
        self._limit = limit
        self._min_score = min_score

    async def fetch(self, query: ContextQuery) -> list[ContextItem]:
        search = SimilarPrompts(self._uow_factory(), self._embedder, self._index, self._status)
        try:
            hits = await search(SimilarPromptsQuery(query.owner_id, query.text, self._limit))
        except DomainError as exc:
            raise ContextSourceUnavailable(f"history search failed ({exc.code})") from exc
        return [
            ContextItem(hit.message.content, title="your earlier message")
            for hit in hits
            if hit.score >= self._min_score and hit.message.content.strip() != query.text.strip()
        ]

    async def ping(self) -> str | None:
        try:
            self._status.require_consistent()
        except DomainError as exc:
            raise ContextSourceUnavailable("the search index is not ready") from exc
        return None
