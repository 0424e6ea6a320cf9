"""Writing a generation's deltas to its log: one round trip per burst, none added.

``add`` never waits. The first delta starts a write at once; deltas that arrive while a
write is in flight wait for it and then go together in the next one. A slow stream's
deltas are written one by one as they come (no added latency); a fast stream's coalesce
into one ``append_many`` per burst instead of one round trip per delta. Order is kept:
one write at a time, in arrival order. The log only ever holds a prefix of the deltas,
and ``close`` waits until it holds all of them (or the log broke), so the terminal event
always follows every delta. A reply that came whole before the first write began (an
instant model, a cached answer) takes its deltas back (``take_unwritten``) to write them
with the terminal event, in one round trip. A writer made ``deferred`` starts no write
until ``release`` (its generation's first pause): a reply that comes whole without one
makes no write task at all.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import structlog

from application.chat.generation_events import delta_event
from application.ports.generation_log import GenerationEvent, GenerationLog
from domain.errors import DomainError

log = structlog.get_logger("parley.chat")


class DeltaWriter:
    __slots__ = (
        "_deferred",
        "_generation_id",
        "_log",
        "_pending",
        "_started",
        "_task",
        "broken",
    )

    def __init__(
        self, generation_log: GenerationLog, generation_id: UUID, *, deferred: bool = False
    ) -> None:
        self._log = generation_log
        self._generation_id = generation_id
        self._pending: list[GenerationEvent] = []
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._deferred = deferred
        self.broken = False
        """The log failed: later deltas are not written (the stored reply has them all,
        and ``done`` carries its full text)."""

    def add(self, delta: str) -> None:
        if self.broken:
            return
        self._pending.append(delta_event(delta))
        if self._task is None and not self._deferred:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def release(self) -> None:
        """Writes may begin: the deltas held so far start their write now."""
        if not self._deferred:
            return
        self._deferred = False
        if self._pending and self._task is None and not self.broken:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def take_unwritten(self) -> list[GenerationEvent]:
        """If no write has begun yet, take every delta back (the caller writes them, in
        order, before anything else); else nothing: the writes under way keep them."""
        if self._started:
            return []
        task, self._task = self._task, None
        if task is not None:
            task.cancel()  # not begun: its body never runs
        taken, self._pending = self._pending, []
        return taken

    async def close(self) -> None:
        """Wait until every delta added so far is in the log (or the log broke)."""
        self.release()
        task = self._task
        if task is not None:
            await asyncio.shield(task)

    async def _drain(self) -> None:
        self._started = True
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._log.append_many(self._generation_id, batch)
        except DomainError as exc:
            # Keep generating: the reply is still stored, and `done` carries its full text.
            self.broken = True
            self._pending = []
            log.warning(
                "generation_log_broken", generation_id=str(self._generation_id), code=exc.code
            )
        finally:
            self._task = None
