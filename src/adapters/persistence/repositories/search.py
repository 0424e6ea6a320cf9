"""The message vectors table through SQLAlchemy (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models.search import MessageVectorRow
from application.ports.message_vectors import (
    MessageToIndex,
    MessageVectorRepository,
    NewMessageVector,
)
from application.ports.vector_index import VectorRecord
from domain.messages import Message

# SQLite allows at most 999 bound parameters per statement in older builds.
IN_BATCH = 900


class SqlMessageVectorRepository(MessageVectorRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, vectors: Sequence[NewMessageVector]) -> list[VectorRecord]:
        if not vectors:
            return []
        rows = [
            MessageVectorRow(
                message_id=v.message.message_id,
                conversation_id=v.message.conversation_id,
                owner_id=v.message.owner_id,
                role=v.message.role,
                model=v.model,
                dim=len(v.vector) // 4,
                vector=v.vector,
            )
            for v in vectors
        ]
        self._session.add_all(rows)
        await self._session.flush()
        return [VectorRecord(r.key, r.owner_id, r.role, r.vector) for r in rows]

    async def keys(self, model: str) -> set[int]:
        result = await self._session.scalars(
            select(MessageVectorRow.key).where(MessageVectorRow.model == model)
        )
        return set(result)

    async def keys_of_owner(self, owner_id: UUID, model: str) -> set[int]:
        result = await self._session.scalars(
            select(MessageVectorRow.key).where(
                MessageVectorRow.model == model, MessageVectorRow.owner_id == owner_id
            )
        )
        return set(result)

    async def keys_in_conversation(
        self, owner_id: UUID, conversation_id: UUID, model: str
    ) -> list[int]:
        result = await self._session.scalars(
            select(MessageVectorRow.key).where(
                MessageVectorRow.model == model,
                MessageVectorRow.owner_id == owner_id,
                MessageVectorRow.conversation_id == conversation_id,
            )
        )
        return list(result)

    async def records(self, keys: Collection[int]) -> list[VectorRecord]:
        wanted = list(keys)
        records: list[VectorRecord] = []
        columns = (
            MessageVectorRow.key,
            MessageVectorRow.owner_id,
            MessageVectorRow.role,
            MessageVectorRow.vector,
        )
        for start in range(0, len(wanted), IN_BATCH):
            result = await self._session.execute(
                select(*columns).where(MessageVectorRow.key.in_(wanted[start : start + IN_BATCH]))
            )
            records.extend(VectorRecord(k, o, r, bytes(v)) for k, o, r, v in result.tuples())
        return records

    async def models(self) -> dict[str, int]:
        result = await self._session.execute(
            select(MessageVectorRow.model, func.count()).group_by(MessageVectorRow.model)
        )
        return {model: count for model, count in result.tuples()}

    async def messages_by_key(self, owner_id: UUID, keys: Collection[int]) -> dict[int, Message]:
        raise NotImplementedError("needs the chat tables")

    async def messages_by_id(self, owner_id: UUID, ids: Collection[UUID]) -> dict[UUID, Message]:
        raise NotImplementedError("needs the chat tables")

    async def without_vectors(
        self, model: str, roles: Collection[str], limit: int
    ) -> list[MessageToIndex]:
        return []

    async def count_without_vectors(self, model: str, roles: Collection[str]) -> int:
        return 0

    async def delete_conversation(self, conversation_id: UUID) -> int:
        result = await self._session.execute(
            delete(MessageVectorRow).where(MessageVectorRow.conversation_id == conversation_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_other_models(self, model: str) -> int:
        result = await self._session.execute(
            delete(MessageVectorRow).where(MessageVectorRow.model != model)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_all(self) -> int:
        result = await self._session.execute(delete(MessageVectorRow))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
