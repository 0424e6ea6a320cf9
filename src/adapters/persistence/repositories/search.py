"""The message vectors table through SQLAlchemy (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from sqlalchemy import ColumnElement, Table, delete, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models.chat import ConversationRow, MessageRow
from adapters.persistence.models.search import MessageVectorRow
from adapters.persistence.repositories.chat import message_from_row
from application.ports.message_vectors import (
    MessageToIndex,
    MessageVectorRepository,
    NewMessageVector,
)
from application.ports.vector_index import VectorRecord
from domain.messages import Message

STREAMING = "streaming"
# SQLite allows at most 999 bound parameters per statement in older builds.
IN_BATCH = 900
VECTORS: Table = MessageVectorRow.__table__  # type: ignore[assignment]
_INSERT_RETURNING_KEYS = insert(VECTORS).returning(VECTORS.c.key, sort_by_parameter_order=True)


class SqlMessageVectorRepository(MessageVectorRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, vectors: Sequence[NewMessageVector]) -> list[VectorRecord]:
        if not vectors:
            return []
        # One INSERT ... RETURNING for the batch, keys in the batch's order; no ORM flush
        # (indexing runs after every chat turn).
        rows = [
            {
                "message_id": v.message.message_id,
                "conversation_id": v.message.conversation_id,
                "owner_id": v.message.owner_id,
                "role": v.message.role,
                "model": v.model,
                "dim": len(v.vector) // 4,
                "vector": v.vector,
            }
            for v in vectors
        ]
        result = await self._session.execute(_INSERT_RETURNING_KEYS, rows)
        keys = list(result.scalars())
        return [
            VectorRecord(key, v.message.owner_id, v.message.role, v.vector)
            for key, v in zip(keys, vectors, strict=True)
        ]

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
            records.extend(VectorRecord(k, o, r, bytes(v)) for k, o, r, v in result)
        return records

    async def models(self) -> dict[str, int]:
        result = await self._session.execute(
            select(MessageVectorRow.model, func.count()).group_by(MessageVectorRow.model)
        )
        return {model: count for model, count in result}

    async def messages_by_key(self, owner_id: UUID, keys: Collection[int]) -> dict[int, Message]:
        found: dict[int, Message] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), IN_BATCH):
            result = await self._session.execute(
                select(MessageVectorRow.key, MessageRow)
                .join(MessageRow, MessageRow.id == MessageVectorRow.message_id)
                .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                .where(
                    MessageVectorRow.key.in_(wanted[start : start + IN_BATCH]),
                    ConversationRow.owner_id == owner_id,  # the owner of record, not the copy
                )
            )
            found.update((key, message_from_row(row)) for key, row in result)
        return found

    async def messages_by_id(self, owner_id: UUID, ids: Collection[UUID]) -> dict[UUID, Message]:
        found: dict[UUID, Message] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), IN_BATCH):
            rows = await self._session.scalars(
                select(MessageRow)
                .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                .where(
                    MessageRow.id.in_(wanted[start : start + IN_BATCH]),
                    ConversationRow.owner_id == owner_id,
                )
            )
            found.update((row.id, message_from_row(row)) for row in rows)
        return found

    async def without_vectors(
        self, model: str, roles: Collection[str], limit: int
    ) -> list[MessageToIndex]:
        result = await self._session.execute(
            select(
                MessageRow.id,
                MessageRow.conversation_id,
                ConversationRow.owner_id,
                MessageRow.role,
                MessageRow.content,
            )
            .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
            .where(*self._unindexed(model, roles))
            .order_by(MessageRow.created_at, MessageRow.id)
            .limit(limit)
        )
        return [MessageToIndex(*row) for row in result]

    async def count_without_vectors(self, model: str, roles: Collection[str]) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(MessageRow).where(*self._unindexed(model, roles))
        )
        return int(count or 0)

    @staticmethod
    def _unindexed(model: str, roles: Collection[str]) -> list[ColumnElement[bool]]:
        has_vector = exists().where(
            MessageVectorRow.message_id == MessageRow.id, MessageVectorRow.model == model
        )
        return [
            MessageRow.role.in_(list(roles)),
            MessageRow.status != STREAMING,  # a reply is indexed once it is finished
            func.length(func.trim(MessageRow.content)) > 0,
            ~has_vector,
        ]

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
