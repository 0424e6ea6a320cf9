"""SearchMessages: the caller's own messages most relevant to a query."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.embedder import Embedder
from application.ports.text_search import TextMatch, TextSearch
from application.ports.unit_of_work import UnitOfWork
from application.ports.vector_index import VectorIndex
from application.search.index_status import IndexStatus
from domain.conversations import ConversationNotFound
from domain.messages import Message
from domain.search import capped_limit, checked_mode, checked_query, reciprocal_rank_fusion

OVERFETCH = 10
"""Extra candidates asked of the index: a few may belong to messages deleted a moment ago."""
FUSION_DEPTH = 50
"""Each ranking fused in hybrid mode is this deep (or the limit, if larger)."""


@dataclass(frozen=True, slots=True)
class SearchMessagesQuery:
    owner_id: UUID
    q: str
    mode: str = "hybrid"
    limit: int = 20
    conversation_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    message: Message
    score: float


class SearchMessages:
    """Business rules:
    - only the caller's own messages are ever returned (the index is partitioned by owner,
      and every hit is re-read from the database restricted to the owner);
    - ``semantic`` ranks by cosine similarity of embeddings, ``text`` by full-text
      relevance, ``hybrid`` fuses both rankings by reciprocal rank fusion (its score);
    - a ``conversation_id`` filter must name one of the caller's conversations (else 404);
    - ``limit`` is at least 1 and capped at 100; ``q`` is non-blank and bounded;
    - semantic search refuses while stored vectors come from another embedder.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        embedder: Embedder,
        index: VectorIndex,
        text_search: TextSearch,
        status: IndexStatus,
    ) -> None:
        self._uow = uow
        self._embedder = embedder
        self._index = index
        self._text = text_search
        self._status = status

    async def __call__(self, query: SearchMessagesQuery) -> list[SearchHit]:
        q, mode, limit = checked_query(query.q), checked_mode(query.mode), capped_limit(query.limit)
        depth = limit if mode != "hybrid" else max(limit, FUSION_DEPTH)
        # Text search reads through its own session: ask it before opening ours, so the
        # embedded SQLite (one transaction at a time) never waits on itself.
        text_matches = (
            await self._text.search(query.owner_id, q, depth, query.conversation_id)
            if mode != "semantic"
            else []
        )
        async with self._uow:
            if query.conversation_id is not None:
                await self._require_own_conversation(query.owner_id, query.conversation_id)
            if mode == "semantic":
                return (await self._semantic(query, q, limit))[:limit]
            if mode == "text":
                return await self._full_text(query, text_matches)
            semantic = await self._semantic(query, q, depth)
            text = await self._full_text(query, text_matches)
            by_id = {hit.message.id: hit.message for hit in [*semantic, *text]}
            fused = reciprocal_rank_fusion(
                [[h.message.id for h in semantic], [h.message.id for h in text]]
            )
            return [SearchHit(by_id[message_id], score) for message_id, score in fused[:limit]]

    async def _require_own_conversation(self, owner_id: UUID, conversation_id: UUID) -> None:
        if await self._uow.conversations.get(conversation_id, owner_id) is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")

    async def _semantic(self, query: SearchMessagesQuery, q: str, k: int) -> list[SearchHit]:
        self._status.require_consistent()
        (vector,) = await self._embedder.embed([q])
        within = None
        if query.conversation_id is not None:
            within = await self._uow.message_vectors.keys_in_conversation(
                query.owner_id, query.conversation_id, self._index.model
            )
        matches = self._index.search(query.owner_id, vector, k + OVERFETCH, within=within)
        found = await self._uow.message_vectors.messages_by_key(
            query.owner_id, [m.key for m in matches]
        )
        return [SearchHit(found[m.key], m.score) for m in matches if m.key in found][:k]

    async def _full_text(
        self, query: SearchMessagesQuery, matches: list[TextMatch]
    ) -> list[SearchHit]:
        found = await self._uow.message_vectors.messages_by_id(
            query.owner_id, [m.message_id for m in matches]
        )
        return [SearchHit(found[m.message_id], m.score) for m in matches if m.message_id in found]
