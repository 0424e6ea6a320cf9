"""Logout: end the caller's session now."""

from __future__ import annotations

import math
from dataclasses import dataclass
from uuid import UUID

from application.identity.config import IdentityConfig
from application.identity.principal import Principal
from application.ports.clock import Clock
from application.ports.token_issuer import TokenIssuer
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.credentials import TokenExpired, TokenInvalid


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    principal: Principal
    refresh_token: str | None = None


class Logout:
    """Business rules:
    - the access token used for the call stops working at once, and so does its whole
      session (every access and refresh token of that sign-in);
    - a refresh token sent along ends its session too, if it belongs to the caller
      (a foreign, malformed or expired one is ignored: logging out is idempotent);
    - with an API key there is no session to end; only a given refresh token is revoked.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        issuer: TokenIssuer,
        store: TokenStore,
        clock: Clock,
        config: IdentityConfig,
    ) -> None:
        self._uow = uow
        self._issuer = issuer
        self._store = store
        self._clock = clock
        self._config = config

    async def __call__(self, command: LogoutCommand) -> None:
        principal = command.principal
        sessions: list[UUID] = []
        if principal.session_id is not None:
            sessions.append(principal.session_id)
        other = self._session_of(command.refresh_token, principal.user_id)
        if other is not None and other not in sessions:
            sessions.append(other)
        now = self._clock.now()
        # Revocation store first: it is what every instance checks on each request.
        if principal.token_id is not None and principal.expires_at is not None:
            remaining = math.ceil((principal.expires_at - now).total_seconds()) + 60
            await self._store.revoke_token(principal.token_id, max(remaining, 1))
        if sessions:
            await self._store.revoke_sessions(sessions, self._config.revocation_ttl_s)
            async with self._uow as uow:
                for session_id in sessions:
                    await uow.auth_sessions.revoke(session_id, now=now)
                await uow.commit()
        # Cached identities reload, and this user's open sockets are re-checked at once.
        await self._store.bump_identity_epoch(principal.user_id)

    def _session_of(self, refresh_token: str | None, user_id: UUID) -> UUID | None:
        if not refresh_token:
            return None
        try:
            claims = self._issuer.verify(refresh_token, "refresh")
        except (TokenInvalid, TokenExpired):
            return None
        return claims.session_id if claims.user_id == user_id else None
