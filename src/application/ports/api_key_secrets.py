"""Making and recognising API-key secrets."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol


class ApiKeySecrets(Protocol):
    @abstractmethod
    def generate(self) -> str:
        """A new secret: ``pk_`` and at least 32 random url-safe characters."""

    @abstractmethod
    def digest(self, key: str) -> str:
        """The stored lookup digest of a secret (constant for a given key)."""

    @abstractmethod
    def display_prefix(self, key: str) -> str:
        """A short, non-secret beginning of the key to tell keys apart in lists."""
