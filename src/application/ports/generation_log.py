"""The generation log: an append-only, resumable record of one generation's events.

A generation (one assistant reply being produced) appends ``start``, then ``delta`` events,
then exactly one terminal event, ``done`` or ``error``. Any transport on any instance reads
it from any event id and gets every later event once, in order, waiting for new ones until
the terminal event. Event ids are decimal strings "1", "2", ... in append order, so a
client's ``Last-Event-ID`` works on every instance and backend.

Finished logs are kept ``ttl`` seconds for late resumes. A cancel request is a flag that
crosses instances: the generation's runner waits for it, wherever the request came from.
Storage failures raise ``GenerationLogUnavailable``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from uuid import UUID

from domain.errors import Conflict, InvalidInput, Unavailable

EventKind = Literal["start", "delta", "done", "error"]
TERMINAL_KINDS: frozenset[str] = frozenset({"done", "error"})


@dataclass(frozen=True, slots=True)
class GenerationEvent:
    """``data`` is plain JSON-able data; ``id`` is assigned by the log on append (an event
    appended with an ``id`` already set is stored under that id, see ``SharedGenerationLog``)."""

    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    @property
    def is_terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS


@dataclass(frozen=True, slots=True)
class GenerationInfo:
    """Who may read or cancel a generation, and what it belongs to."""

    generation_id: UUID
    owner_id: UUID
    conversation_id: UUID
    message_id: UUID


class GenerationLogUnavailable(Unavailable):
    code = "GENERATION_LOG_UNAVAILABLE"
    title = "Stream storage unavailable"


class InvalidEventId(InvalidInput):
    code = "INVALID_EVENT_ID"
    title = "Invalid event id"


class EventsExpired(Conflict):
    """The events after the requested id were trimmed (the log is bounded): resuming from
    there would skip some, so it is refused rather than silently gapped."""

    code = "EVENTS_EXPIRED"
    title = "Events no longer available"


def parse_event_id(after: str | None) -> int:
    """The sequence number an event id names; None or "" (from the start) is 0."""
    if after is None or after == "":
        return 0
    if not after.isdigit() or len(after) > 18:
        raise InvalidEventId("an event id is a decimal number as sent in the stream")
    return int(after)


class GenerationLog(Protocol):
    @abstractmethod
    async def begin(self, info: GenerationInfo) -> None:
        """Record a new generation (before its first event)."""

    @abstractmethod
    async def info(self, generation_id: UUID) -> GenerationInfo | None:
        """None if unknown or expired."""

    @abstractmethod
    async def append(self, generation_id: UUID, event: GenerationEvent) -> str:
        """Append an event; returns its id. A terminal event starts the retention TTL."""

    async def open(self, info: GenerationInfo, first: GenerationEvent) -> str:
        """``begin`` and append ``first`` (in one round trip where the backend can)."""
        await self.begin(info)
        return await self.append(info.generation_id, first)

    async def append_many(self, generation_id: UUID, events: list[GenerationEvent]) -> list[str]:
        """Append ``events`` in order, in one round trip where the backend can; their ids.
        A failure may leave a prefix of them appended, never a gap."""
        return [await self.append(generation_id, event) for event in events]

    @abstractmethod
    def read(self, generation_id: UUID, after: str | None = None) -> AsyncIterator[GenerationEvent]:
        """Events after ``after`` (None: from the first), waiting for new ones; ends after
        the terminal event. Raises ``EventsExpired`` when events after ``after`` were trimmed."""

    @abstractmethod
    async def snapshot(self, generation_id: UUID) -> list[GenerationEvent]:
        """The events stored now, without waiting."""

    @abstractmethod
    async def request_cancel(self, generation_id: UUID) -> None:
        """Ask the generation to stop, wherever it runs. Idempotent."""

    @abstractmethod
    async def wait_for_cancel(self, generation_id: UUID) -> None:
        """Return once a cancel was requested for this generation (before or after the call)."""


class SharedGenerationLog(GenerationLog, Protocol):
    """A log every instance reads (Redis): it may be down for a while, or come back empty.

    Appended events that already carry their ``id`` are stored under it, so the process
    that runs a generation decides its ids and can write them again after an outage.
    """

    @abstractmethod
    async def restore(self, info: GenerationInfo, events: list[GenerationEvent]) -> None:
        """Make the log hold exactly ``info`` and ``events`` (ids "1".."n", in order), at
        once: readers see the old events or the restored ones, never a mix or a gap."""

    async def aclose(self) -> None:
        """Stop background work (cancel polling)."""
