"""Opening a login session and minting its token pair (shared by register, login, refresh)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from application.identity.config import IdentityConfig
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.token_issuer import TokenIssuer
from domain.auth_sessions import AuthSession
from domain.users import User


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    session_id: UUID


class SessionTokens:
    def __init__(
        self, issuer: TokenIssuer, clock: Clock, ids: IdGenerator, config: IdentityConfig
    ) -> None:
        self._issuer = issuer
        self._clock = clock
        self._ids = ids
        self._config = config

    def new_session(self, user: User) -> AuthSession:
        now = self._clock.now()
        return AuthSession(
            id=self._ids.new_id(),
            user_id=user.id,
            refresh_jti=self._issuer.new_token_id(),
            created_at=now,
            expires_at=now + timedelta(seconds=self._config.session_max_age_s),
        )

    def new_refresh_id(self) -> str:
        return self._issuer.new_token_id()

    def pair(self, user: User, session: AuthSession) -> TokenPair:
        """Access token (short) and refresh token (the session's current jti; never
        outliving the session's absolute expiry)."""
        now = self._clock.now()
        access = self._issuer.issue(
            "access",
            user_id=user.id,
            session_id=session.id,
            token_id=self._issuer.new_token_id(),
            issued_at=now,
            expires_at=now + timedelta(seconds=self._config.access_ttl_s),
        )
        refresh = self._issuer.issue(
            "refresh",
            user_id=user.id,
            session_id=session.id,
            token_id=session.refresh_jti,
            issued_at=now,
            expires_at=min(now + timedelta(seconds=self._config.refresh_ttl_s), session.expires_at),
        )
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=self._config.access_ttl_s,
            user=user,
            session_id=session.id,
        )
