"""Finish replies left ``streaming`` by a process that died (crash, kill, lost host)."""

from __future__ import annotations

import contextlib

import structlog

from application.chat.generation_events import GenerationInterrupted, error_event
from application.ports.clock import Clock
from application.ports.generation_log import GenerationEvent, GenerationLog
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import DomainError
from domain.messages import INTERRUPTED, Message

log = structlog.get_logger("parley.chat")

BATCH = 200


class RecoverOrphanedGenerations:
    """Business rules:
    - a ``streaming`` reply whose lease lapsed has no process behind it (running ones renew
      theirs), so it becomes ``failed`` with ``INTERRUPTED``, never stays ``streaming``;
    - it keeps the text its log still holds (what clients already saw);
    - readers still waiting on its log get a terminal ``error`` event;
    - safe to run on every instance at once: a reply is only finished once;
    - with ``act=False`` it only counts them (a probe: leases lapse during a database
      outage, and their runners renew them only once it is back).
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, log: GenerationLog, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._log = log
        self._clock = clock

    async def __call__(self, *, act: bool = True) -> int:
        recovered = 0
        while True:
            async with self._uow_factory() as uow:
                orphans = await uow.messages.orphaned(self._clock.now(), BATCH)
            if not act:
                return len(orphans)
            if not orphans:
                return recovered
            for message in orphans:
                if await self._recover(message):
                    recovered += 1
            if len(orphans) < BATCH:
                return recovered

    async def _recover(self, message: Message) -> bool:
        events = await self._events(message)
        text = "".join(str(e.data.get("content", "")) for e in events if e.kind == "delta")
        message.fail(text or message.content, INTERRUPTED)
        async with self._uow_factory() as uow:
            finished = await uow.messages.finish(message)
            await uow.commit()
        if not finished:
            return False  # another instance's sweep got there first
        log.warning("orphaned_reply_recovered", message_id=str(message.id))
        if message.generation_id is not None and events and not events[-1].is_terminal:
            error = GenerationInterrupted("the server stopped before the reply finished")
            with contextlib.suppress(DomainError):  # nobody can read a log that is down
                await self._log.append(message.generation_id, error_event(error, message))
        return True

    async def _events(self, message: Message) -> list[GenerationEvent]:
        if message.generation_id is None:
            return []
        try:
            return await self._log.snapshot(message.generation_id)
        except DomainError:
            return []
