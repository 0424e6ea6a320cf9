"""Context sources: services asked, before a turn, for data to ground the reply on."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.errors import Unavailable
from domain.grounding import ContextItem


@dataclass(frozen=True, slots=True)
class ContextQuery:
    owner_id: UUID
    """Whose turn it is: a source may only ever return this user's or public data."""
    conversation_id: UUID
    text: str
    """The user's message."""


class ContextSourceUnavailable(Unavailable):
    """The source failed: unreachable, an error status, a malformed or oversized answer."""

    code = "CONTEXT_SOURCE_UNAVAILABLE"
    title = "Context source unavailable"


class ContextSource(Protocol):
    """One configured source. Callers bound each call by ``timeout_s`` themselves too."""

    name: str
    kind: str
    timeout_s: float

    @abstractmethod
    async def fetch(self, query: ContextQuery) -> list[ContextItem]:
        """Items for this query; raises ``ContextSourceUnavailable`` on any failure."""

    @abstractmethod
    async def ping(self) -> str | None:
        """Check the source answers (for readiness); a short detail, or raise
        ``ContextSourceUnavailable``."""


class ContextMetrics(Protocol):
    """Per-source outcomes for monitoring; ``source`` comes from configuration only."""

    @abstractmethod
    def context_source_call(self, source: str, status: str, seconds: float) -> None: ...


class NoContextMetrics(ContextMetrics):
    def context_source_call(self, source: str, status: str, seconds: float) -> None:
        return None
