"""Revocation store: access tokens and whole sessions that must stop working now.

Entries expire on their own once the tokens they block would have expired anyway.

The store is a cache of what the database records, never the only record: a session's
state (revoked or alive) is kept here after the database was asked once, and a store
that lost its data (a Redis restart or flush, eviction, an embedded process restart)
answers "unknown" for the session, so the caller asks the database again instead of
letting a logged-out token back in.

It also keeps a per-user *identity epoch*: an opaque number that changes whenever
something authentication depends on changes (role, plan, active flag, password, API
keys). Authentication caches what it read from the database under the epoch it saw, and
fetches the current epoch in the same round trip as the revocation flags, so a change
made on any instance invalidates every instance's cache at the next request.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.errors import Unavailable


class TokenStoreUnavailable(Unavailable):
    """The store cannot answer: callers must fail closed, never treat as not revoked."""

    code = "TOKEN_STORE_UNAVAILABLE"
    title = "Token revocation store unavailable"


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """What one round trip to the store says about a request's credential."""

    revoked: bool
    epoch: int
    # False when a session was asked about and the store holds nothing on it (never
    # recorded, expired or lost): the database must say whether it is still alive.
    session_known: bool = True


class TokenStore(Protocol):
    @abstractmethod
    async def revoke_token(self, token_id: str, ttl_s: int) -> None: ...

    @abstractmethod
    async def revoke_sessions(self, session_ids: list[UUID], ttl_s: int) -> None: ...

    @abstractmethod
    async def remember_session(self, session_id: UUID, *, revoked: bool, ttl_s: int) -> None:
        """Cache what the database says of a session. An *alive* record never replaces a
        revoked one (a revocation racing with the database read wins)."""

    @abstractmethod
    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        """True when the token or its session was revoked (one round trip)."""

    @abstractmethod
    async def check(
        self, *, user_id: UUID, token_id: str | None = None, session_id: UUID | None = None
    ) -> IdentityCheck:
        """In one round trip: whether the token or its session was revoked (False when
        neither is given), whether the store knows the session at all, and the user's
        current identity epoch (0 if never bumped)."""

    @abstractmethod
    async def bump_identity_epoch(self, user_id: UUID) -> None:
        """Change the user's identity epoch, so every instance's cached view of the user
        (and of their API keys) is reloaded at the next request."""
