"""Identity repository ports: users, API keys, login sessions.

Adapters return domain objects; a broken uniqueness rule surfaces at ``UnitOfWork.commit``
as ``domain.errors.Conflict``.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.api_keys import ApiKey
from domain.auth_sessions import AuthSession
from domain.users import User


class UserRepository(Protocol):
    """Users by id and (normalised) email."""

    @abstractmethod
    async def add(self, user: User) -> None: ...

    @abstractmethod
    async def get(self, user_id: UUID) -> User | None: ...

    @abstractmethod
    async def get_by_email(self, email: str) -> User | None: ...

    @abstractmethod
    async def save(self, user: User) -> None:
        """Store the user's mutable fields (display name, role, plan, active, hash)."""

    @abstractmethod
    async def list(self, *, limit: int, after: UUID | None = None) -> list[User]:
        """Oldest first (ids are time-ordered); ``after`` continues a previous page."""


class ApiKeyRepository(Protocol):
    """API keys, stored hashed."""

    @abstractmethod
    async def add(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def get_by_hash(self, key_hash: str) -> ApiKey | None: ...

    @abstractmethod
    async def list_for_user(
        self, user_id: UUID, *, limit: int, after: UUID | None = None
    ) -> list[ApiKey]:
        """The owner's keys, oldest first; ``after`` continues a previous page."""

    @abstractmethod
    async def delete(self, key_id: UUID, user_id: UUID) -> bool:
        """Delete the key only if ``user_id`` owns it; False when there is no such key."""


class AuthSessionRepository(Protocol):
    """Login sessions (refresh-token families)."""

    @abstractmethod
    async def add(self, session: AuthSession) -> None: ...

    @abstractmethod
    async def get(self, session_id: UUID) -> AuthSession | None: ...

    @abstractmethod
    async def rotate(
        self, session_id: UUID, *, expected_jti: str, new_jti: str, now: datetime
    ) -> bool:
        """Compare-and-set the refresh jti of a session that is neither revoked nor past
        its absolute expiry at ``now``, atomically: True for exactly one of several
        concurrent callers presenting the same ``expected_jti``."""

    @abstractmethod
    async def revoke(self, session_id: UUID, *, now: datetime) -> None: ...

    @abstractmethod
    async def revoke_all_for_user(
        self, user_id: UUID, *, now: datetime, keep: UUID | None = None
    ) -> list[UUID]:
        """Revoke every live session of the user except ``keep``; return the revoked ids."""
