"""The generation log of an instance that shares its logs (Redis): the generations it runs
are kept here too, so their own clients never depend on the shared log staying up.

Each generation this process runs gets a local copy of its events, numbered here. While
the shared log works, every event is written to it under that number and local readers see
an event once the shared log holds it, so whatever a client of this instance saw is also
what any other instance (or the orphan sweep, after a crash) reads. When a write fails,
the generation goes on: local readers see each event as it is made, readers on other
instances get an error, and a background task restores the whole log (info and every
event, under the same ids) once the shared log answers again, even if it came back empty.
A generation's local copy is dropped once its terminal event is in the shared log, or,
if the shared log stays down, ``hold_s`` after its end.

Generations of other instances (and the orphan sweep's appends) go straight to the shared
log, as do reads of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from uuid import UUID

import structlog

from application.ports.generation_log import (
    GenerationEvent,
    GenerationInfo,
    GenerationLog,
    SharedGenerationLog,
    parse_event_id,
)
from domain.errors import DomainError

log = structlog.get_logger("parley.chat")


@dataclass(slots=True, eq=False)
class _Local:
    info: GenerationInfo
    stored: list[GenerationEvent | str] = field(default_factory=list)
    """Every event so far, the ``i``-th with id ``i + 1``; a plain delta is kept as its text
    alone (a fifth of the memory of the event: a thousand long replies at once)."""
    visible: int = 0
    """How many of them local readers may see: those the shared log holds, or all of them
    while it is behind."""
    shared: int = 0
    """How many of them the shared log is known to hold (in order)."""
    behind: bool = False
    """A write failed: the shared log may lack some events (or everything, after a
    restart), so it is restored in the background, and local readers see every event."""
    ended_at: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def finished(self) -> bool:
        last = self.stored[-1] if self.stored else None
        return isinstance(last, GenerationEvent) and last.is_terminal

    @property
    def count(self) -> int:
        return len(self.stored)

    def slice(self, start: int, end: int) -> list[GenerationEvent]:
        """Events ``start + 1`` .. ``end`` (by id), as events."""
        return [
            GenerationEvent("delta", {"content": kept}, str(n)) if isinstance(kept, str) else kept
            for n, kept in enumerate(self.stored[start:end], start + 1)
        ]

    def add(self, events: list[GenerationEvent], now: float) -> list[str]:
        ids = []
        for event in events:
            event_id = str(len(self.stored) + 1)
            data = event.data
            if event.kind == "delta" and len(data) == 1 and isinstance(data.get("content"), str):
                self.stored.append(data["content"])
            else:
                self.stored.append(GenerationEvent(event.kind, data, event_id))
            ids.append(event_id)
        if self.finished and self.ended_at is None:
            self.ended_at = now
        if self.behind:
            self.show(len(self.stored))
        return ids

    def show(self, upto: int) -> None:
        if upto > self.visible:
            self.visible = upto
            changed, self.changed = self.changed, asyncio.Event()
            changed.set()


class LocalFirstGenerationLog(GenerationLog):
    """Business rules:
    - a client attached to the instance that runs a generation receives every event, in
      order and once, whether or not the shared log is up; what it saw is what is stored;
    - while the shared log is up, a local reader sees no event the shared log lacks (so a
      crash of this process loses nothing a client saw);
    - while it is down, writes are not retried per event: one background task restores each
      generation that fell behind, every ``retry_s``, until the shared log holds it all
      under the same ids (resume on any instance then continues without a gap);
    - the local copy is kept only while it is needed: until the shared log holds the
      terminal event, or ``hold_s`` after the generation ended if it never does.
    """

    def __init__(
        self,
        shared: SharedGenerationLog,
        *,
        retry_s: float = 1.0,
        hold_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._retry_s = retry_s
        self._hold_s = hold_s
        self._clock = clock
        self._local: dict[UUID, _Local] = {}
        self._restorer: asyncio.Task[None] | None = None

    # -- writing (only this process writes the generations it runs) -----------------------

    async def begin(self, info: GenerationInfo) -> None:
        self._local.setdefault(info.generation_id, _Local(info))
        with contextlib.suppress(DomainError):  # restored with the first event otherwise
            await self._shared.begin(info)

    async def open(self, info: GenerationInfo, first: GenerationEvent) -> str:
        entry = self._local.setdefault(info.generation_id, _Local(info))
        (event_id,) = entry.add([first], self._clock())
        await self._write(entry)
        return event_id

    async def append(self, generation_id: UUID, event: GenerationEvent) -> str:
        return (await self.append_many(generation_id, [event]))[0]

    async def append_many(self, generation_id: UUID, events: list[GenerationEvent]) -> list[str]:
        entry = self._local.get(generation_id)
        if entry is None:  # not run here (the orphan sweep finishing a dead peer's reply)
            return await self._shared.append_many(generation_id, events)
        ids = entry.add(events, self._clock())
        await self._write(entry)
        return ids

    async def _write(self, entry: _Local) -> None:
        if entry.behind:
            return  # the restorer writes it all once the shared log is back
        async with entry.lock:
            start, end = entry.shared, entry.count
            if entry.behind or start >= end:
                return
            batch = entry.slice(start, end)
            try:
                if start == 0:
                    await self._shared.open(entry.info, batch[0])
                    if len(batch) > 1:
                        await self._shared.append_many(entry.info.generation_id, batch[1:])
                else:
                    await self._shared.append_many(entry.info.generation_id, batch)
            except DomainError as exc:
                self._fall_behind(entry, exc)
                return
            entry.shared = end
            entry.show(end)
        self._forget_if_done(entry)

    def _fall_behind(self, entry: _Local, exc: DomainError) -> None:
        entry.behind = True
        entry.show(entry.count)
        log.warning(
            "generation_log_fallback",
            generation_id=str(entry.info.generation_id),
            code=exc.code,
            cause=type(exc.__cause__).__name__ if exc.__cause__ is not None else None,
        )
        if self._restorer is None or self._restorer.done():
            self._restorer = asyncio.get_running_loop().create_task(
                self._restore_all(), name="generation-log-restore"
            )

    def _forget_if_done(self, entry: _Local) -> None:
        done = entry.finished and not entry.behind and entry.shared == entry.count
        if done and self._local.get(entry.info.generation_id) is entry:
            del self._local[entry.info.generation_id]

    async def _restore_all(self) -> None:
        while True:
            behind = [e for e in self._local.values() if e.behind]
            if not behind:
                return
            await asyncio.sleep(self._retry_s)
            for entry in behind:
                if await self._restore(entry):
                    log.info(
                        "generation_log_restored",
                        generation_id=str(entry.info.generation_id),
                        events=entry.count,
                    )
                    self._forget_if_done(entry)
                elif entry.ended_at is not None and self._clock() - entry.ended_at > self._hold_s:
                    log.warning(
                        "generation_log_not_restored",
                        generation_id=str(entry.info.generation_id),
                    )
                    if self._local.get(entry.info.generation_id) is entry:
                        del self._local[entry.info.generation_id]

    async def _restore(self, entry: _Local) -> bool:
        async with entry.lock:
            try:
                await self._shared.restore(entry.info, entry.slice(0, entry.count))
                entry.shared = entry.count
                while entry.shared < entry.count:  # made while the restore ran
                    batch = entry.slice(entry.shared, entry.count)
                    await self._shared.append_many(entry.info.generation_id, batch)
                    entry.shared += len(batch)
            except DomainError:
                return False
            entry.behind = False  # no await since the last check: nothing is left unwritten
            return True

    # -- reading ---------------------------------------------------------------------------

    async def info(self, generation_id: UUID) -> GenerationInfo | None:
        entry = self._local.get(generation_id)
        if entry is not None:
            return entry.info
        return await self._shared.info(generation_id)

    def read(self, generation_id: UUID, after: str | None = None) -> AsyncIterator[GenerationEvent]:
        entry = self._local.get(generation_id)
        if entry is None:
            return self._shared.read(generation_id, after)
        return self._read_local(entry, parse_event_id(after))

    async def _read_local(self, entry: _Local, cursor: int) -> AsyncIterator[GenerationEvent]:
        while True:
            if cursor < entry.visible:
                for event in entry.slice(cursor, entry.visible):
                    yield event
                    if event.is_terminal:
                        return
                    cursor += 1
                continue
            if entry.finished and entry.visible == entry.count:
                return  # the client already has the terminal event (or an id past it)
            await entry.changed.wait()

    async def snapshot(self, generation_id: UUID) -> list[GenerationEvent]:
        entry = self._local.get(generation_id)
        if entry is not None:
            return entry.slice(0, entry.visible)
        return await self._shared.snapshot(generation_id)

    # -- cancel ----------------------------------------------------------------------------

    async def request_cancel(self, generation_id: UUID) -> None:
        entry = self._local.get(generation_id)
        if entry is None:
            await self._shared.request_cancel(generation_id)
            return
        entry.cancel.set()  # runs here: no need for the shared flag (which may be down)

    async def wait_for_cancel(self, generation_id: UUID) -> None:
        entry = self._local.get(generation_id)
        if entry is None:
            await self._shared.wait_for_cancel(generation_id)
            return
        local = asyncio.ensure_future(entry.cancel.wait())
        remote = asyncio.ensure_future(self._shared.wait_for_cancel(generation_id))
        try:
            done, _ = await asyncio.wait({local, remote}, return_when=asyncio.FIRST_COMPLETED)
            if local not in done and remote.exception() is not None:
                await local  # the shared flag is unreachable: only a local cancel is left
        finally:
            local.cancel()
            remote.cancel()

    async def aclose(self) -> None:
        if self._restorer is not None:
            self._restorer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._restorer
        await self._shared.aclose()
