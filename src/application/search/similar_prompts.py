"""SimilarPrompts: the caller's past prompts most like a new one."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.embedder import Embedder
from application.ports.unit_of_work import UnitOfWork
from application.ports.vector_index import VectorIndex
from application.search.index_status import IndexStatus
from application.search.search_messages import OVERFETCH, SearchHit
from domain.search import capped_limit, checked_query

PROMPT_ROLES = frozenset({"user"})


@dataclass(frozen=True, slots=True)
class SimilarPromptsQuery:
    owner_id: UUID
    q: str
    limit: int = 5


class SimilarPrompts:
    """Business rules:
    - only the caller's own ``user`` messages (prompts), never replies or others' data;
    - score is the cosine similarity to ``q`` (higher is closer), best first;
    - ``limit`` defaults to 5, is at least 1 and capped at 100.
    """

    def __init__(
        self, uow: UnitOfWork, embedder: Embedder, index: VectorIndex, status: IndexStatus
    ) -> None:
        self._uow = uow
        self._embedder = embedder
        self._index = index
        self._status = status

    async def __call__(self, query: SimilarPromptsQuery) -> list[SearchHit]:
        q, limit = checked_query(query.q), capped_limit(query.limit)
        self._status.require_consistent()
        (vector,) = await self._embedder.embed([q])
        matches = self._index.search(query.owner_id, vector, limit + OVERFETCH, roles=PROMPT_ROLES)
        async with self._uow:
            found = await self._uow.message_vectors.messages_by_key(
                query.owner_id, [m.key for m in matches]
            )
        return [SearchHit(found[m.key], m.score) for m in matches if m.key in found][:limit]
