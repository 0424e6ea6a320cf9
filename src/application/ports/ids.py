from __future__ import annotations

from abc import abstractmethod
from typing import Protocol
from uuid import UUID


class IdGenerator(Protocol):
    """New time-ordered ids (UUIDv7)."""

    @abstractmethod
    def new_id(self) -> UUID: ...
