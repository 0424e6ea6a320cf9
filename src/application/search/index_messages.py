"""IndexMessages: embed messages, store their vectors, then add them to the index."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from application.ports.embedder import Embedder
from application.ports.message_vectors import MessageToIndex, NewMessageVector
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.vector_index import VectorIndex
from application.search.vectors import pack_vector

INDEXED_ROLES = frozenset({"user", "assistant"})
MAX_EMBEDDED_CHARS = 8000
"""Longer messages are embedded by their beginning: embedding endpoints cap input tokens,
and the opening of a message says most about its topic."""

log = structlog.get_logger("parley.search.indexing")


class IndexMessages:
    """Business rules:
    - only ``user`` and ``assistant`` messages with non-blank content are indexed;
    - the vector row is committed before the index is touched: the table is the truth,
      so a crash in between leaves a row that catch-up adds to the index later;
    - a message deleted meanwhile, or already indexed for this embedder, is skipped.
    Returns how many messages were indexed.
    """

    def __init__(self, embedder: Embedder, index: VectorIndex, uow_factory: UnitOfWorkFactory):
        self._embedder = embedder
        self._index = index
        self._uow_factory = uow_factory

    async def __call__(self, messages: Sequence[MessageToIndex]) -> int:
        wanted = [m for m in messages if m.role in INDEXED_ROLES and m.content.strip()]
        if not wanted:
            return 0
        vectors = await self._embedder.embed([m.content[:MAX_EMBEDDED_CHARS] for m in wanted])
        rows = [
            NewMessageVector(message, self._embedder.model, pack_vector(vector))
            for message, vector in zip(wanted, vectors, strict=True)
        ]
        # One INSERT for the batch: it commits on its own (no BEGIN and COMMIT round
        # trips after every chat turn).
        async with self._uow_factory.single_statement() as uow:
            stored = await uow.message_vectors.add(rows)
            await uow.commit()
        await self._index.add(stored)
        return len(stored)
