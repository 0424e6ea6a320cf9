from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Current time in UTC; a port so tests can move time."""

    @abstractmethod
    def now(self) -> datetime: ...
