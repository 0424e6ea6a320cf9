"""Write-behind: aggregate in memory on the hot path, write to storage a moment later.

Recording is a dict update (no I/O, no await); the first record after a flush schedules the
next flush ``interval_s`` later, so an idle process does no work at all. A failed write
keeps the data for the next attempt; ``close`` writes what is left.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

import structlog

from domain.errors import DomainError

log = structlog.get_logger("parley.usage")


class WriteBehind(ABC):
    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @abstractmethod
    def _has_pending(self) -> bool: ...

    @abstractmethod
    async def _write(self) -> None:
        """Write pending data; on failure raise and leave it pending."""

    def _schedule(self) -> None:
        if self._closed or (self._timer is not None and not self._timer.done()):
            return
        try:
            self._timer = asyncio.get_running_loop().create_task(self._later())
        except RuntimeError:  # no loop (a synchronous caller): the next flush writes it
            return

    async def _later(self) -> None:
        await asyncio.sleep(self._interval_s)
        self._timer = None
        await self.flush()
        if self._has_pending():
            self._schedule()

    async def flush(self) -> None:
        """Write now; storage errors are logged, and the data waits for the next flush."""
        async with self._lock:
            if not self._has_pending():
                return
            try:
                await self._write()
            except DomainError as exc:
                log.warning("write_behind_failed", kind=type(self).__name__, code=exc.code)
                self._schedule()

    async def close(self) -> None:
        self._closed = True
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        await self.flush()
