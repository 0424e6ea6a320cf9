"""Full-text search on the messages table: PostgreSQL tsvector/GIN and SQLite FTS5.

Both engines answer the same way: every (stemmed) word of the query must occur, ranked by
the engine's relevance (``ts_rank_cd``; ``-bm25``), only the owner's messages. The user's
text is never spliced into SQL or into an FTS expression: PostgreSQL parses it with
``websearch_to_tsquery``; for FTS5 it is reduced to quoted word tokens.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.text_search import TextMatch, TextSearch

TS_CONFIG = "english"  # must match the expression of the GIN index (migration 0003_search)

_PG_SEARCH = """
SELECT m.id, m.conversation_id, ts_rank_cd(to_tsvector('english', m.content), q) AS score
FROM messages m
JOIN conversations c ON c.id = m.conversation_id,
     websearch_to_tsquery('english', :query) AS q
WHERE c.owner_id = :owner_id
  AND to_tsvector('english', m.content) @@ q
  {conversation_filter}
ORDER BY score DESC, m.created_at DESC
LIMIT :limit
"""

_SQLITE_SEARCH = """
SELECT m.id, m.conversation_id, -bm25(messages_fts) AS score
FROM messages_fts
JOIN message_fts_rows r ON r.fts_rowid = messages_fts.rowid
JOIN messages m ON m.id = r.message_id
JOIN conversations c ON c.id = m.conversation_id
WHERE messages_fts MATCH :query
  AND c.owner_id = :owner_id
  {conversation_filter}
ORDER BY bm25(messages_fts), m.created_at DESC
LIMIT :limit
"""

# FTS5 keeps every word; PostgreSQL's english configuration drops these. Dropping them from
# SQLite queries too makes "how to bake bread" behave alike on both engines.
_STOP_WORDS_TEXT = """a an and are as at be by can do does for from has he how i in is it its of
on or that the they this to was we were what when where who why will with you"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"\w+")


def fts5_expression(query: str) -> str:
    """Quoted tokens, implicitly ANDed: FTS5 operators typed by the user stay plain words."""
    words = [w for w in _WORD.findall(query.lower()) if w not in _STOP_WORDS]
    if not words:
        words = _WORD.findall(query.lower())  # only stop words: search for them after all
    return " ".join(f'"{word}"' for word in words)


class _SqlTextSearch(TextSearch):
    _sql: str

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def search(
        self, owner_id: UUID, query: str, limit: int, conversation_id: UUID | None = None
    ) -> list[TextMatch]:
        expression = self._expression(query)
        if not expression:
            return []
        params: dict[str, Any] = {
            "query": expression,
            "owner_id": self._id(owner_id),
            "limit": limit,
        }
        conversation_filter = ""
        if conversation_id is not None:
            conversation_filter = "AND m.conversation_id = :conversation_id"
            params["conversation_id"] = self._id(conversation_id)
        statement = text(self._sql.format(conversation_filter=conversation_filter))
        async with self._session_factory() as session:
            rows = (await session.execute(statement, params)).all()
        return [self._match(row) for row in rows]

    async def matching_conversations(self, owner_id: UUID, query: str, limit: int) -> list[UUID]:
        # The best message of each conversation decides its rank; ask deep enough for `limit`.
        matches = await self.search(owner_id, query, max(limit * 10, 100))
        seen: dict[UUID, None] = {}
        for match in matches:
            seen.setdefault(match.conversation_id)
        return list(seen)[:limit]

    def _expression(self, query: str) -> str:
        return query.strip()

    def _id(self, value: UUID) -> Any:
        return value

    def _match(self, row: Row[Any]) -> TextMatch:
        values: list[Any] = list(row)
        message_id, conversation_id, score = values
        return TextMatch(_uuid(message_id), _uuid(conversation_id), float(score))


class PostgresTextSearch(_SqlTextSearch):
    _sql = _PG_SEARCH


class SqliteTextSearch(_SqlTextSearch):
    _sql = _SQLITE_SEARCH

    def _expression(self, query: str) -> str:
        return fts5_expression(query)

    def _id(self, value: UUID) -> Any:
        return value.bytes  # advanced-alchemy stores UUIDs as 16 raw bytes on SQLite


def _uuid(value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return UUID(bytes=bytes(value))
    return UUID(str(value))
