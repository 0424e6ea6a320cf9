"""Revocation pushed to open sockets: whatever changes a user's identity epoch (logout,
password change, deactivation, role or plan change, a deleted API key) also publishes
``session.revoked`` for that user, so every instance re-checks that user's sockets at once
instead of finding out at its next periodic sweep."""

from __future__ import annotations

from uuid import UUID

from application.events.push import push
from application.ports.event_bus import EventBus, EventType, UserEvent
from application.ports.token_store import IdentityCheck, TokenStore


class RevocationPushingTokenStore(TokenStore):
    """Decorates the real store; the push is best-effort (the sweep is the safety net)."""

    def __init__(self, inner: TokenStore, bus: EventBus) -> None:
        self._inner = inner
        self._bus = bus

    async def revoke_token(self, token_id: str, ttl_s: int) -> None:
        await self._inner.revoke_token(token_id, ttl_s)

    async def revoke_sessions(self, session_ids: list[UUID], ttl_s: int) -> None:
        await self._inner.revoke_sessions(session_ids, ttl_s)

    async def remember_session(self, session_id: UUID, *, revoked: bool, ttl_s: int) -> None:
        # Only a cache of what the database says: nothing changed, nothing to push.
        await self._inner.remember_session(session_id, revoked=revoked, ttl_s=ttl_s)

    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        return await self._inner.is_revoked(token_id=token_id, session_id=session_id)

    async def check(
        self, *, user_id: UUID, token_id: str | None = None, session_id: UUID | None = None
    ) -> IdentityCheck:
        return await self._inner.check(user_id=user_id, token_id=token_id, session_id=session_id)

    async def bump_identity_epoch(self, user_id: UUID) -> None:
        await self._inner.bump_identity_epoch(user_id)
        await push(
            self._bus,
            UserEvent(EventType.SESSION_REVOKED, user_id),
            not_pushed="revocation_not_pushed",
            user_id=str(user_id),
        )
