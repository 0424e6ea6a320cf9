"""The vector index port: nearest neighbours, always within one owner's vectors.

The database table of message vectors is the source of truth; an index is a replica that
can be rebuilt from it at any time (``load`` a saved copy, then catch up by keys).
Vectors cross this port as float32 little-endian bytes (``application.search.vectors``),
the same bytes the table stores, so catch-up moves no Python floats.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.errors import Unavailable


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """One indexed message vector: ``key`` is its 64-bit row key in the vectors table."""

    key: int
    owner_id: UUID
    role: str
    vector: bytes

    @property
    def partition(self) -> tuple[UUID, str]:
        return (self.owner_id, self.role)


@dataclass(frozen=True, slots=True)
class VectorMatch:
    key: int
    score: float  # cosine similarity: 1 is identical, higher is closer


class VectorIndex(Protocol):
    """Vectors of one embedding space (``model``, ``dim``), partitioned by owner and role."""

    model: str
    dim: int

    @abstractmethod
    async def add(self, records: Sequence[VectorRecord]) -> None:
        """Add (or replace) vectors. A vector of another size raises ``VectorSizeMismatch``."""

    @abstractmethod
    async def remove(self, keys: Collection[int]) -> None:
        """Forget these keys; unknown keys are ignored."""

    @abstractmethod
    def search(
        self,
        owner_id: UUID,
        query: Sequence[float],
        k: int,
        *,
        roles: Collection[str] | None = None,
        within: Collection[int] | None = None,
    ) -> list[VectorMatch]:
        """The ``k`` vectors of ``owner_id`` closest to ``query``, best first; only ``roles``
        (all if None) and only keys in ``within`` (all if None, searched exactly)."""

    @abstractmethod
    def keys(self, owner_id: UUID | None = None) -> set[int]:
        """Keys held (of one owner, or all)."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    async def load(self) -> bool:
        """Replace the contents with the saved copy; False if there is none usable."""

    @abstractmethod
    async def save(self) -> None:
        """Persist the contents atomically (a crash mid-save keeps the previous copy)."""

    @abstractmethod
    async def clear(self) -> None: ...


class VectorSizeMismatch(Unavailable):
    """Vectors of different sizes or embedders can never be compared: refuse, don't guess."""

    code = "EMBEDDING_DIMENSION_MISMATCH"
    title = "Embedding dimension mismatch"
