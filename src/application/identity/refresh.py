"""Refresh: trade the current refresh token of a session for a new token pair."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.config import IdentityConfig
from application.identity.session_tokens import SessionTokens, TokenPair
from application.ports.clock import Clock
from application.ports.token_issuer import TokenIssuer
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.credentials import AccountDisabled, TokenExpired, TokenInvalid, TokenRevoked
from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class RefreshCommand:
    refresh_token: str


class Refresh:
    """Business rules:
    - only a validly signed, unexpired refresh token (not an access token) is accepted;
    - each refresh rotates the session's refresh token: the old one is spent;
    - presenting a spent refresh token is treated as theft: the whole session (family)
      is revoked at once, its access tokens included, and the caller gets TOKEN_REVOKED;
    - two concurrent refreshes with one token: at most one wins (compare-and-set); the
      loser counts as reuse, because the two cannot be told apart from a replay;
    - refreshing never extends the session's absolute lifetime (TOKEN_EXPIRED after it);
    - a disabled account cannot refresh, and its session ends.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        issuer: TokenIssuer,
        tokens: SessionTokens,
        store: TokenStore,
        clock: Clock,
        config: IdentityConfig,
    ) -> None:
        self._uow = uow
        self._issuer = issuer
        self._tokens = tokens
        self._store = store
        self._clock = clock
        self._config = config

    async def __call__(self, command: RefreshCommand) -> TokenPair:
        claims = self._issuer.verify(command.refresh_token, "refresh")
        now = self._clock.now()
        async with self._uow as uow:
            # The compare-and-set comes first, so SQLite takes its write lock up front.
            rotated = await uow.auth_sessions.rotate(
                claims.session_id,
                expected_jti=claims.token_id,
                new_jti=self._tokens.new_refresh_id(),
                now=now,
            )
            session = await uow.auth_sessions.get(claims.session_id)
            if session is None or session.user_id != claims.user_id:
                raise TokenInvalid("unknown session")
            user = await uow.users.get(session.user_id)
            if rotated and user is not None and user.is_active:
                await uow.commit()
                return self._tokens.pair(user, session)
            if session.is_revoked:
                raise TokenRevoked("this session has ended; sign in again")
            refusal: DomainError
            if session.is_expired(now):
                refusal = TokenExpired("this session reached its maximum age; sign in again")
            elif not rotated:
                refusal = TokenRevoked("refresh token reuse detected; the session has ended")
            else:
                refusal = AccountDisabled("this account has been disabled")
            await uow.auth_sessions.revoke(session.id, now=now)
            await uow.commit()
        await self._end_access(session.id)
        raise refusal

    async def _end_access(self, session_id: UUID) -> None:
        await self._store.revoke_sessions([session_id], self._config.revocation_ttl_s)
