"""CatchUpIndex: make this process's index replica equal the vectors table again."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import structlog

from application.ports.message_vectors import MessageToIndex
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.vector_index import VectorIndex
from application.search.index_messages import INDEXED_ROLES, IndexMessages
from application.search.index_status import IndexStatus

log = structlog.get_logger("parley.search.catch_up")

FETCH_BATCH = 2000
EMBED_BATCH = 64


@dataclass(frozen=True, slots=True)
class CatchUpReport:
    loaded_from_file: bool
    added: int
    removed: int
    embedded: int


class CatchUpIndex:
    """Business rules:
    - the saved file is only a head start: keys the table has and the index lacks are added
      (a crash between the row commit and the index write), keys the index has and the table
      lacks are removed (deletions seen by another instance, or while this one was down);
    - only vectors of the configured embedder are loaded; rows of another embedder are
      reported (semantic search then refuses until ``parley reindex``);
    - with ``embed_backlog``, messages that never got a vector are embedded now, in batches.
    """

    def __init__(
        self,
        index: VectorIndex,
        uow_factory: UnitOfWorkFactory,
        index_messages: IndexMessages,
        status: IndexStatus,
    ) -> None:
        self._index = index
        self._uow_factory = uow_factory
        self._index_messages = index_messages
        self._status = status

    async def __call__(
        self, *, load_file: bool = False, embed_backlog: bool = False
    ) -> CatchUpReport:
        loaded = await self._index.load() if load_file else False
        async with self._uow_factory() as uow:
            models = await uow.message_vectors.models()
            stored = await uow.message_vectors.keys(self._index.model)
        self._status.foreign_models = {m: n for m, n in models.items() if m != self._index.model}
        held = self._index.keys()
        extra, missing = held - stored, sorted(stored - held)
        await self._index.remove(extra)
        await copy_rows_to_index(self._index, self._uow_factory, missing)
        embedded = await self._embed_backlog() if embed_backlog else 0
        self._status.caught_up = True
        report = CatchUpReport(loaded, len(missing), len(extra), embedded)
        changed = report.loaded_from_file or report.added or report.removed or report.embedded
        # The periodic re-sync runs every few seconds; say so only when it changed something.
        emit = log.info if changed else log.debug
        emit("vector_index_caught_up", **asdict(report), vectors=len(self._index))
        return report

    async def _embed_backlog(self) -> int:
        embedded = 0
        while True:
            async with self._uow_factory() as uow:
                batch: list[MessageToIndex] = await uow.message_vectors.without_vectors(
                    self._index.model, INDEXED_ROLES, EMBED_BATCH
                )
            if not batch:
                return embedded
            done = await self._index_messages(batch)
            embedded += done
            if done == 0:  # nothing could be stored (all deleted meanwhile): do not spin
                return embedded


async def copy_rows_to_index(
    index: VectorIndex, uow_factory: UnitOfWorkFactory, keys: list[int]
) -> None:
    """Add these rows of the table to the index, a bounded batch at a time."""
    for start in range(0, len(keys), FETCH_BATCH):
        async with uow_factory() as uow:
            records = await uow.message_vectors.records(keys[start : start + FETCH_BATCH])
        await index.add(records)
