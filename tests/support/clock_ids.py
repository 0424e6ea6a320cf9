"""The one set of test clocks and id generators; the unit-test fakes of each feature are
presets of these (their start date, whether each reading moves time on)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from application.ports.clock import Clock
from application.ports.ids import IdGenerator


class ManualClock(Clock):
    """Time moves only when told (``advance``), or by ``tick`` on every reading, so
    successive readings stay ordered."""

    def __init__(
        self,
        start: datetime = datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        tick: timedelta = timedelta(0),
    ) -> None:
        self.current = start
        self._tick = tick

    def now(self) -> datetime:
        self.current += self._tick
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class SequentialIds(IdGenerator):
    """1, 2, 3, ... as UUIDs: predictable in assertions."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new_id(self) -> UUID:
        return UUID(int=next(self._counter))


class RandomIds(IdGenerator):
    def new_id(self) -> UUID:
        return uuid4()
