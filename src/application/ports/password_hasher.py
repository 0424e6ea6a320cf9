"""Password hashing port (argon2id in production, something fast in unit tests)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol


class PasswordHasher(Protocol):
    """Slow, salted one-way hashing. Implementations must not block the event loop."""

    @abstractmethod
    async def hash(self, password: str) -> str: ...

    @abstractmethod
    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches. ``None`` (no such user) spends the same time
        checking a dummy hash and returns False, so timing does not reveal accounts."""

    @abstractmethod
    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
