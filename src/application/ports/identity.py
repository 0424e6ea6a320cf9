"""Identity repository ports (filled by the identity work)."""

from __future__ import annotations

from typing import Protocol


class UserRepository(Protocol):
    """Users by id and email."""


class ApiKeyRepository(Protocol):
    """API keys, stored hashed."""


class AuthSessionRepository(Protocol):
    """Login sessions (refresh-token families)."""
