"""In-process generation log: one bounded event buffer per generation (embedded mode).

Readers wait on an ``asyncio.Event`` that is replaced and set on every append, so a waiting
reader wakes exactly when there is something new. Finished generations are dropped ``ttl_s``
after their terminal event, unfinished ones ``ttl_s`` after their last event (their process
is gone or stuck); clean-up happens as a side effect of use, no background task needed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from uuid import UUID

from application.ports.generation_log import (
    EventsExpired,
    GenerationEvent,
    GenerationInfo,
    GenerationLog,
    parse_event_id,
)
from domain.messages import GenerationNotFound

CLEANUP_EVERY_S = 5.0


@dataclass(slots=True)
class _Generation:
    info: GenerationInfo | None
    touched_at: float
    events: list[GenerationEvent] = field(default_factory=list)
    first_seq: int = 1  # seq of events[0]; grows as the buffer is trimmed
    last_seq: int = 0
    finished: bool = False
    expired: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


class MemoryGenerationLog(GenerationLog):
    def __init__(
        self,
        *,
        ttl_s: float = 3600.0,
        max_events: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_events = max_events
        self._clock = clock
        self._generations: dict[UUID, _Generation] = {}
        self._cancels: dict[UUID, asyncio.Event] = {}
        self._cleaned_at = clock()

    async def begin(self, info: GenerationInfo) -> None:
        self._cleanup()
        entry = self._generations.get(info.generation_id)
        if entry is None:
            self._generations[info.generation_id] = _Generation(info, self._clock())
        else:
            entry.info = info

    async def info(self, generation_id: UUID) -> GenerationInfo | None:
        entry = self._live(generation_id)
        return entry.info if entry else None

    async def append(self, generation_id: UUID, event: GenerationEvent) -> str:
        self._cleanup()
        entry = self._live(generation_id)
        if entry is None:
            entry = self._generations[generation_id] = _Generation(None, self._clock())
        entry.last_seq += 1
        event_id = str(entry.last_seq)
        entry.events.append(GenerationEvent(event.kind, event.data, event_id))
        if len(entry.events) > self._max_events + self._max_events // 4:
            # Trim in batches so appends stay O(1) amortised.
            drop = len(entry.events) - self._max_events
            del entry.events[:drop]
            entry.first_seq += drop
        entry.touched_at = self._clock()
        entry.finished = entry.finished or event.is_terminal
        entry.wake()
        return event_id

    async def read(
        self, generation_id: UUID, after: str | None = None
    ) -> AsyncIterator[GenerationEvent]:
        cursor = parse_event_id(after)
        entry = self._live(generation_id)
        if entry is None:
            raise GenerationNotFound(f"generation {generation_id} not found")
        while True:
            if cursor + 1 < entry.first_seq:
                raise EventsExpired("events after this id were trimmed; read the stored message")
            fresh = entry.events[cursor + 1 - entry.first_seq :]
            for event in fresh:
                yield event
                if event.is_terminal:
                    return
            cursor += len(fresh)
            if entry.finished and cursor >= entry.last_seq:
                return  # the client already has the terminal event (or an id past it)
            if entry.expired:
                raise GenerationNotFound(f"generation {generation_id} expired")
            if not fresh:
                await entry.changed.wait()

    async def snapshot(self, generation_id: UUID) -> list[GenerationEvent]:
        entry = self._live(generation_id)
        return list(entry.events) if entry else []

    async def request_cancel(self, generation_id: UUID) -> None:
        self._cancel_event(generation_id).set()

    async def wait_for_cancel(self, generation_id: UUID) -> None:
        await self._cancel_event(generation_id).wait()

    def _cancel_event(self, generation_id: UUID) -> asyncio.Event:
        event = self._cancels.get(generation_id)
        if event is None:
            event = self._cancels[generation_id] = asyncio.Event()
        return event

    def _live(self, generation_id: UUID) -> _Generation | None:
        entry = self._generations.get(generation_id)
        if entry is not None and self._is_stale(entry, self._clock()):
            self._drop(generation_id, entry)
            return None
        return entry

    def _is_stale(self, entry: _Generation, now: float) -> bool:
        return now - entry.touched_at > self._ttl_s

    def _cleanup(self) -> None:
        now = self._clock()
        if now - self._cleaned_at < CLEANUP_EVERY_S:
            return
        self._cleaned_at = now
        for generation_id, entry in list(self._generations.items()):
            if self._is_stale(entry, now):
                self._drop(generation_id, entry)

    def _drop(self, generation_id: UUID, entry: _Generation) -> None:
        del self._generations[generation_id]
        self._cancels.pop(generation_id, None)
        entry.expired = True
        entry.wake()
