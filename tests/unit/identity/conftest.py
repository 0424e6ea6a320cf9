from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from application.identity.auth_cache import AuthCache
from application.identity.authenticate import Authenticate
from application.identity.login_throttle import LoginThrottle
from application.identity.principal import Principal
from application.identity.register import Register, RegisterCommand
from application.identity.session_tokens import SessionTokens, TokenPair
from tests.unit.identity.fakes import (
    CONFIG,
    CountingRateLimiter,
    FakeClock,
    FakeHasher,
    FakeTokenIssuer,
    FakeTokenStore,
    FakeUnitOfWork,
    PlainApiKeySecrets,
    SameUnitOfWork,
    SequentialIds,
)


@dataclass
class World:
    """Every fake port, wired the way the composition root wires the real ones."""

    uow: FakeUnitOfWork
    clock: FakeClock
    ids: SequentialIds
    hasher: FakeHasher
    issuer: FakeTokenIssuer
    store: FakeTokenStore
    limiter: CountingRateLimiter
    secrets: PlainApiKeySecrets
    tokens: SessionTokens
    throttle: LoginThrottle
    # One per process in production (APP scope): shared, so the tests see cached principals.
    auth_cache: AuthCache = field(default_factory=AuthCache)

    def authenticate(self) -> Authenticate:
        return Authenticate(
            SameUnitOfWork(self.uow),
            self.issuer,
            self.store,
            self.secrets,
            self.auth_cache,
            CONFIG,
        )

    async def register(self, email: str, password: str = "correct horse battery") -> TokenPair:
        use_case = Register(self.uow, self.hasher, self.tokens, self.clock, self.ids, CONFIG)
        return await use_case(RegisterCommand(email, password))

    async def principal(self, pair: TokenPair) -> Principal:
        return await self.authenticate()(pair.access_token)


@pytest.fixture
def world() -> World:
    clock = FakeClock()
    ids = SequentialIds()
    issuer = FakeTokenIssuer(clock)
    limiter = CountingRateLimiter()
    return World(
        uow=FakeUnitOfWork(),
        clock=clock,
        ids=ids,
        hasher=FakeHasher(),
        issuer=issuer,
        store=FakeTokenStore(),
        limiter=limiter,
        secrets=PlainApiKeySecrets(),
        tokens=SessionTokens(issuer, clock, ids, CONFIG),
        throttle=LoginThrottle(limiter, CONFIG),
    )
