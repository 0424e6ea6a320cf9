"""Full-text search over a user's messages (PostgreSQL tsvector, SQLite FTS5)."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class TextMatch:
    message_id: UUID
    conversation_id: UUID
    score: float  # engine relevance (ts_rank_cd, -bm25): higher is better, not comparable


class TextSearch(Protocol):
    """Every word of the query must match (stemmed); results are only the owner's."""

    @abstractmethod
    async def search(
        self, owner_id: UUID, query: str, limit: int, conversation_id: UUID | None = None
    ) -> list[TextMatch]: ...

    @abstractmethod
    async def matching_conversations(self, owner_id: UUID, query: str, limit: int) -> list[UUID]:
        """Ids of the owner's conversations with a message matching ``query``, best first."""
