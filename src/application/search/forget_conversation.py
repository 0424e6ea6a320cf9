"""ForgetConversation: a deleted conversation's vectors leave the table and the index."""

from __future__ import annotations

from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.vector_index import VectorIndex
from application.search.indexing_queue import ForgetConversation


class ForgetConversationVectors:
    """Business rules: rows go first (the table is the truth; the foreign key usually took
    them already), then every key of that owner the table no longer has leaves the index.
    Search results are always re-read from the database, so they are gone even before."""

    def __init__(self, index: VectorIndex, uow_factory: UnitOfWorkFactory) -> None:
        self._index = index
        self._uow_factory = uow_factory

    async def __call__(self, job: ForgetConversation) -> None:
        async with self._uow_factory() as uow:
            await uow.message_vectors.delete_conversation(job.conversation_id)
            await uow.commit()
            kept = await uow.message_vectors.keys_of_owner(job.owner_id, self._index.model)
        await self._index.remove(self._index.keys(job.owner_id) - kept)
