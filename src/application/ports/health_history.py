"""Storage of periodic health checks, shared by every instance."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.health_history import HealthCheck


class HealthHistoryStore(Protocol):
    """Each call is its own transaction. Errors surface as ``domain.errors.Unavailable``."""

    @abstractmethod
    async def claim(self, slot_at: datetime, instance: str) -> bool:
        """Atomically take the check of this slot: True for exactly one caller across every
        instance (an insert that conflicts does nothing)."""

    @abstractmethod
    async def record(self, checks: Sequence[HealthCheck]) -> None: ...

    @abstractmethod
    async def prune(self, before: datetime) -> int:
        """Drop checks and claims older than ``before``; how many checks went."""

    @abstractmethod
    async def since(self, start: datetime) -> list[HealthCheck]: ...
