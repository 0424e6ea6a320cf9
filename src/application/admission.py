"""Admission: a bounded number of holders at once, a bounded queue waits, the rest refused.

Used for turns entering storage and for requests entering the HTTP app (each its own
instance). A burst (1,000 streams opened in the same second) used to reach the database
pool all at once: every turn took a pooled connection or waited for one, transactions
interleaved on a saturated event loop while holding their connections, and whoever
waited past the pool's timeout failed with ``DATABASE_UNAVAILABLE``. Here at most
``max_active`` holders are inside at a time; the next ones wait in arrival order, up to
``max_waiting`` of them and each for at most ``max_wait_s``. Past either bound the
holder is refused at once with ``SERVER_BUSY`` (503, Retry-After), before it started, so
the client knows to retry and nothing is half-written.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.errors import Unavailable


class ServerBusy(Unavailable):
    code = "SERVER_BUSY"
    title = "Server busy"


class TurnAdmission:
    """Business rules:
    - at most ``max_active`` holders at once; the others wait first come, first served;
    - at most ``max_waiting`` wait; one more is refused at once;
    - a wait longer than ``max_wait_s`` is refused (and gives its place up);
    - a refusal happens before the holder starts: nothing of it was done.
    """

    def __init__(self, max_active: int, max_waiting: int, max_wait_s: float) -> None:
        self._free = max_active
        self._max_waiting = max_waiting
        self._max_wait_s = max_wait_s
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._enter()
        try:
            yield
        finally:
            self._leave()

    async def _enter(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        if len(self._waiters) >= self._max_waiting:
            raise ServerBusy("too many requests are starting at once; try again shortly")
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), self._max_wait_s)
        except TimeoutError:
            self._give_up(turn)
            raise ServerBusy("the server is saturated; try again shortly") from None
        except asyncio.CancelledError:
            self._give_up(turn)
            raise

    def _give_up(self, turn: asyncio.Future[None]) -> None:
        if turn.done():
            self._leave()  # the slot was handed over just as the wait ended: pass it on
        else:
            self._waiters.remove(turn)
            turn.cancel()

    def _leave(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot goes straight to the next in line
                return
        self._free += 1


class UnlimitedAdmission(TurnAdmission):
    """Everyone enters at once, nothing is counted (tests and scripts need no bound)."""

    def __init__(self) -> None:
        super().__init__(max_active=1, max_waiting=0, max_wait_s=0.0)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        yield
