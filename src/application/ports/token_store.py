"""Revocation store: access tokens and whole sessions that must stop working now.

Entries expire on their own once the tokens they block would have expired anyway.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol
from uuid import UUID

from domain.errors import Unavailable


class TokenStoreUnavailable(Unavailable):
    """The store cannot answer: callers must fail closed (R8), never treat as not revoked."""

    code = "TOKEN_STORE_UNAVAILABLE"
    title = "Token revocation store unavailable"


class TokenStore(Protocol):
    @abstractmethod
    async def revoke_token(self, token_id: str, ttl_s: int) -> None: ...

    @abstractmethod
    async def revoke_sessions(self, session_ids: list[UUID], ttl_s: int) -> None: ...

    @abstractmethod
    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        """True when the token or its session was revoked (one round trip)."""
