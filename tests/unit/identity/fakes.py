"""Typed in-memory fakes of the identity ports, for driving the real use cases."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from application.identity.config import IdentityConfig
from application.ports.api_key_secrets import ApiKeySecrets
from application.ports.identity import ApiKeyRepository, AuthSessionRepository, UserRepository
from application.ports.password_hasher import PasswordHasher
from application.ports.rate_limiter import RateDecision, RateLimit, RateLimiter
from application.ports.token_issuer import IssuedToken, TokenClaims, TokenIssuer, TokenKind
from application.ports.token_store import IdentityCheck, TokenStore, TokenStoreUnavailable
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.api_keys import ApiKey
from domain.auth_sessions import AuthSession
from domain.credentials import TokenExpired, TokenInvalid
from domain.users import User
from tests.support.clock_ids import ManualClock, SequentialIds
from tests.support.fake_uow import DirectUnitOfWork

__all__ = ["SequentialIds"]


FakeClock = ManualClock


class FakeHasher(PasswordHasher):
    """``hashed:<params>:<password>``; records the hashes it was asked to verify."""

    def __init__(self, params: str = "v1") -> None:
        self.params = params
        self.verified: list[str | None] = []

    async def hash(self, password: str) -> str:
        return f"hashed:{self.params}:{password}"

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.verified.append(password_hash)
        if password_hash is None:
            return False
        return password_hash.split(":", 2)[2] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return password_hash.split(":", 2)[1] != self.params


class FakeTokenIssuer(TokenIssuer):
    """Opaque tokens mapped to their claims; expiry judged against the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._claims: dict[str, TokenClaims] = {}
        self._ids = itertools.count(1)

    def issue(
        self,
        kind: TokenKind,
        *,
        user_id: UUID,
        session_id: UUID,
        token_id: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> IssuedToken:
        claims = TokenClaims(kind, user_id, session_id, token_id, issued_at, expires_at)
        token = f"{kind}-token-{next(self._ids)}"
        self._claims[token] = claims
        return IssuedToken(token, claims)

    def verify(self, token: str, kind: TokenKind) -> TokenClaims:
        claims = self._claims.get(token)
        if claims is None or claims.kind != kind:
            raise TokenInvalid("invalid token")
        if claims.expires_at <= self._clock.now():
            raise TokenExpired("expired")
        return claims

    def new_token_id(self) -> str:
        return f"jti-{next(self._ids)}"


class FakeTokenStore(TokenStore):
    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.sessions: set[UUID] = set()
        self.alive: set[UUID] = set()
        self.epochs: dict[UUID, int] = {}
        self.down = False

    def forget_everything(self) -> None:
        """What a Redis restart without persistence does."""
        self.tokens.clear()
        self.sessions.clear()
        self.alive.clear()
        self.epochs.clear()

    def _check(self) -> None:
        if self.down:
            raise TokenStoreUnavailable("down")

    async def revoke_token(self, token_id: str, ttl_s: int) -> None:
        self._check()
        self.tokens.add(token_id)

    async def revoke_sessions(self, session_ids: list[UUID], ttl_s: int) -> None:
        self._check()
        self.sessions.update(session_ids)

    async def remember_session(self, session_id: UUID, *, revoked: bool, ttl_s: int) -> None:
        self._check()
        if revoked:
            self.sessions.add(session_id)
        elif session_id not in self.sessions:
            self.alive.add(session_id)

    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        self._check()
        return token_id in self.tokens or session_id in self.sessions

    async def check(
        self, *, user_id: UUID, token_id: str | None = None, session_id: UUID | None = None
    ) -> IdentityCheck:
        self._check()
        revoked = token_id in self.tokens or session_id in self.sessions
        known = session_id is None or session_id in self.sessions or session_id in self.alive
        return IdentityCheck(
            revoked=revoked, epoch=self.epochs.get(user_id, 0), session_known=known
        )

    async def bump_identity_epoch(self, user_id: UUID) -> None:
        self._check()
        self.epochs[user_id] = self.epochs.get(user_id, 0) + 1


class CountingRateLimiter(RateLimiter):
    """Fixed budget per key, never refilled (time does not pass in unit tests)."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

    async def hit(self, key: str, limit: RateLimit) -> RateDecision:
        used = self.hits.get(key, 0)
        allowed = used < limit.amount
        if allowed:
            self.hits[key] = used + 1
        remaining = limit.amount - self.hits.get(key, 0)
        return RateDecision(allowed, limit.amount, remaining, 60.0, 0.0 if allowed else 42.0)


class PlainApiKeySecrets(ApiKeySecrets):
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def generate(self) -> str:
        return f"pk_{next(self._counter):040d}"

    def digest(self, key: str) -> str:
        return f"digest({key})"

    def display_prefix(self, key: str) -> str:
        return key[:11]


class InMemoryUsers(UserRepository):
    def __init__(self, rows: dict[UUID, User]) -> None:
        self.rows = rows
        self.reads = 0

    async def add(self, user: User) -> None:
        self.rows[user.id] = replace(user)

    async def get(self, user_id: UUID) -> User | None:
        self.reads += 1
        row = self.rows.get(user_id)
        return replace(row) if row else None

    async def get_by_email(self, email: str) -> User | None:
        return next((replace(u) for u in self.rows.values() if u.email == email), None)

    async def save(self, user: User) -> None:
        self.rows[user.id] = replace(user)

    async def list(self, *, limit: int, after: UUID | None = None) -> list[User]:
        ordered = sorted(self.rows.values(), key=lambda u: u.id)
        return [replace(u) for u in ordered if after is None or u.id > after][:limit]


class InMemoryApiKeys(ApiKeyRepository):
    def __init__(self, rows: dict[UUID, ApiKey]) -> None:
        self.rows = rows

    async def add(self, key: ApiKey) -> None:
        self.rows[key.id] = key

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self.rows.values() if k.key_hash == key_hash), None)

    async def list_for_user(
        self, user_id: UUID, *, limit: int, after: UUID | None = None
    ) -> list[ApiKey]:
        mine = sorted((k for k in self.rows.values() if k.user_id == user_id), key=lambda k: k.id)
        return [k for k in mine if after is None or k.id > after][:limit]

    async def delete(self, key_id: UUID, user_id: UUID) -> bool:
        key = self.rows.get(key_id)
        if key is None or key.user_id != user_id:
            return False
        del self.rows[key_id]
        return True


class InMemorySessions(AuthSessionRepository):
    def __init__(self, rows: dict[UUID, AuthSession]) -> None:
        self.rows = rows

    async def add(self, session: AuthSession) -> None:
        self.rows[session.id] = replace(session)

    async def get(self, session_id: UUID) -> AuthSession | None:
        row = self.rows.get(session_id)
        return replace(row) if row else None

    async def rotate(
        self, session_id: UUID, *, expected_jti: str, new_jti: str, now: datetime
    ) -> bool:
        await asyncio.sleep(0)  # let concurrent callers interleave, as a database would
        row = self.rows.get(session_id)
        if row is None or row.is_revoked or row.is_expired(now) or row.refresh_jti != expected_jti:
            return False
        row.refresh_jti = new_jti
        return True

    async def revoke(self, session_id: UUID, *, now: datetime) -> None:
        row = self.rows.get(session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = now

    async def revoke_all_for_user(
        self, user_id: UUID, *, now: datetime, keep: UUID | None = None
    ) -> list[UUID]:
        revoked = []
        for row in self.rows.values():
            live = row.revoked_at is None and not row.is_expired(now)
            if row.user_id == user_id and live and row.id != keep:
                row.revoked_at = now
                revoked.append(row.id)
        return revoked


class FakeUnitOfWork(DirectUnitOfWork):
    """Identity tables as dicts; changes apply directly and commits are counted. Other
    features' repositories are left out: identity use cases never touch them."""

    def __init__(self) -> None:
        self.user_rows: dict[UUID, User] = {}
        self.key_rows: dict[UUID, ApiKey] = {}
        self.session_rows: dict[UUID, AuthSession] = {}
        self.users = InMemoryUsers(self.user_rows)
        self.api_keys = InMemoryApiKeys(self.key_rows)
        self.auth_sessions = InMemorySessions(self.session_rows)
        self.commits = 0


class SameUnitOfWork(UnitOfWorkFactory):
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def __call__(self) -> UnitOfWork:
        return self._uow


CONFIG = IdentityConfig(login_per_account_per_minute=3, login_per_ip_per_minute=5)
