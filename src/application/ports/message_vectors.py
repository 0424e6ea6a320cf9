"""The message vectors table: the source of truth every vector index replica catches up from."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from application.ports.vector_index import VectorRecord
from domain.messages import Message


@dataclass(frozen=True, slots=True)
class MessageToIndex:
    message_id: UUID
    conversation_id: UUID
    owner_id: UUID
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class NewMessageVector:
    message: MessageToIndex
    model: str
    vector: bytes  # float32 little-endian (application.search.vectors)


class MessageVectorRepository(Protocol):
    """One row per (message, embedder model), keyed by a 64-bit integer that is never reused."""

    @abstractmethod
    async def add(self, vectors: Sequence[NewMessageVector]) -> list[VectorRecord]:
        """Store vectors for messages that still exist and have none for that model yet;
        return what was stored, with the new keys."""

    @abstractmethod
    async def keys(self, model: str) -> set[int]: ...

    @abstractmethod
    async def keys_of_owner(self, owner_id: UUID, model: str) -> set[int]: ...

    @abstractmethod
    async def keys_in_conversation(
        self, owner_id: UUID, conversation_id: UUID, model: str
    ) -> list[int]: ...

    @abstractmethod
    async def records(self, keys: Collection[int]) -> list[VectorRecord]: ...

    @abstractmethod
    async def models(self) -> dict[str, int]:
        """Rows per embedder model id (more than one means a reindex is due)."""

    @abstractmethod
    async def without_vectors(
        self, model: str, roles: Collection[str], limit: int
    ) -> list[MessageToIndex]:
        """Messages with content in ``roles`` that have no vector for ``model`` yet."""

    @abstractmethod
    async def messages_by_key(self, owner_id: UUID, keys: Collection[int]) -> dict[int, Message]:
        """The owner's messages behind these keys; keys of other owners or of deleted
        messages are simply absent (this is what makes stale index entries harmless)."""

    @abstractmethod
    async def messages_by_id(self, owner_id: UUID, ids: Collection[UUID]) -> dict[UUID, Message]:
        """The owner's messages with these ids; other owners' ids are absent."""

    @abstractmethod
    async def count_without_vectors(self, model: str, roles: Collection[str]) -> int: ...

    @abstractmethod
    async def delete_conversation(self, conversation_id: UUID) -> int: ...

    @abstractmethod
    async def delete_other_models(self, model: str) -> int:
        """Drop vectors made by any embedder but ``model``."""

    @abstractmethod
    async def delete_all(self) -> int: ...
