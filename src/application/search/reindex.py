"""Reindex: rebuild the vectors and the index for the configured embedder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.vector_index import VectorIndex
from application.search.catch_up import copy_rows_to_index
from application.search.index_messages import INDEXED_ROLES, IndexMessages
from application.search.index_status import IndexStatus

log = structlog.get_logger("parley.search.reindex")

BATCH = 64
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ReindexCommand:
    full: bool = False
    """Re-embed every message, not only those without a vector from the current embedder."""
    on_progress: Progress | None = None
    """Called with (messages done, messages to do) after each batch."""


@dataclass(frozen=True, slots=True)
class ReindexReport:
    model: str
    deleted: int
    embedded: int
    vectors: int


class Reindex:
    """Business rules:
    - vectors of any other embedder are deleted (with ``full``, all vectors are);
    - every user and assistant message without a vector for the configured embedder is
      embedded, in batches, reporting progress;
    - the index is rebuilt from the table alone and saved, so it matches it exactly;
    - it can be interrupted and run again: it resumes where it stopped.
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

    async def __call__(self, command: ReindexCommand) -> ReindexReport:
        model = self._index.model
        async with self._uow_factory() as uow:
            repo = uow.message_vectors
            deleted = await (repo.delete_all() if command.full else repo.delete_other_models(model))
            await uow.commit()
            total = await repo.count_without_vectors(model, INDEXED_ROLES)
        await self._index.clear()
        async with self._uow_factory() as uow:
            kept = sorted(await uow.message_vectors.keys(model))
        await copy_rows_to_index(self._index, self._uow_factory, kept)
        self._status.foreign_models = {}
        embedded = 0
        self._report(command, embedded, total)
        while True:
            async with self._uow_factory() as uow:
                batch = await uow.message_vectors.without_vectors(model, INDEXED_ROLES, BATCH)
            if not batch:
                break
            done = await self._index_messages(batch)
            if done == 0:
                break
            embedded += done
            self._report(command, embedded, max(total, embedded))
        await self._index.save()
        self._status.caught_up = True
        log.info("reindexed", model=model, deleted=deleted, embedded=embedded)
        return ReindexReport(model, deleted, embedded, len(self._index))

    @staticmethod
    def _report(command: ReindexCommand, done: int, total: int) -> None:
        if command.on_progress is not None:
            command.on_progress(done, total)
