"""One contract for both revocation stores: in-process memory and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import TimeoutError as RedisTimeout

from adapters.memory.token_store import MemoryTokenStore
from adapters.redis.token_store import RedisTokenStore
from application.ports.token_store import IdentityCheck, TokenStore, TokenStoreUnavailable
from tests.integration.identity_stores import (
    PIPELINED_KINDS,
    UNREACHABLE_REDIS,
    redis_prefix,
    token_store,
)
from tests.support.backends import require_servers


@pytest.fixture(params=PIPELINED_KINDS)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[TokenStore]:
    async with token_store(request.param) as made:
        yield made


async def test_nothing_is_revoked_in_a_fresh_store(store: TokenStore) -> None:
    assert not await store.is_revoked(token_id="jti-1", session_id=uuid.uuid4())
    assert not await store.is_revoked(token_id="jti-1", session_id=None)


async def test_a_revoked_token_id_is_reported_revoked(store: TokenStore) -> None:
    await store.revoke_token("jti-1", ttl_s=60)
    assert await store.is_revoked(token_id="jti-1", session_id=None)
    assert not await store.is_revoked(token_id="jti-2", session_id=None)


async def test_a_revoked_session_revokes_every_token_of_it(store: TokenStore) -> None:
    gone, kept = uuid.uuid4(), uuid.uuid4()
    await store.revoke_sessions([gone], ttl_s=60)
    assert await store.is_revoked(token_id="any", session_id=gone)
    assert await store.is_revoked(token_id="other", session_id=gone)
    assert not await store.is_revoked(token_id="any", session_id=kept)


async def test_several_sessions_are_revoked_in_one_call(store: TokenStore) -> None:
    sessions = [uuid.uuid4() for _ in range(3)]
    await store.revoke_sessions(sessions, ttl_s=60)
    await store.revoke_sessions([], ttl_s=60)
    for session_id in sessions:
        assert await store.is_revoked(token_id="t", session_id=session_id)


async def test_revocations_expire_after_their_ttl(store: TokenStore) -> None:
    session_id = uuid.uuid4()
    await store.revoke_token("short-lived", ttl_s=1)
    await store.revoke_sessions([session_id], ttl_s=1)
    await asyncio.sleep(1.2)
    assert not await store.is_revoked(token_id="short-lived", session_id=session_id)


async def test_a_redis_store_that_cannot_reach_redis_fails_closed() -> None:
    async with redis_prefix(UNREACHABLE_REDIS) as (client, prefix):
        store = RedisTokenStore(client, prefix)
        with pytest.raises(TokenStoreUnavailable) as caught:
            await store.is_revoked(token_id="jti", session_id=uuid.uuid4())
        assert caught.value.code == "TOKEN_STORE_UNAVAILABLE"
        with pytest.raises(TokenStoreUnavailable):
            await store.revoke_token("jti", ttl_s=60)
        with pytest.raises(TokenStoreUnavailable):
            await store.revoke_sessions([uuid.uuid4()], ttl_s=60)


async def test_the_identity_epoch_starts_at_zero_and_changes_on_every_bump(
    store: TokenStore,
) -> None:
    ann, bob = uuid.uuid4(), uuid.uuid4()
    assert (await store.check(user_id=ann)) == IdentityCheck(revoked=False, epoch=0)
    seen = {0}
    for _ in range(3):
        await store.bump_identity_epoch(ann)
        epoch = (await store.check(user_id=ann)).epoch
        assert epoch not in seen
        seen.add(epoch)
    assert (await store.check(user_id=bob)).epoch == 0


async def test_check_reports_revocations_and_the_epoch_together(store: TokenStore) -> None:
    ann, gone = uuid.uuid4(), uuid.uuid4()
    await store.bump_identity_epoch(ann)
    epoch = (await store.check(user_id=ann)).epoch
    await store.revoke_token("jti-1", ttl_s=60)
    await store.revoke_sessions([gone], ttl_s=60)
    assert await store.check(user_id=ann, token_id="jti-1") == IdentityCheck(True, epoch)
    assert await store.check(user_id=ann, token_id="t", session_id=gone) == IdentityCheck(
        True, epoch
    )
    assert await store.check(user_id=ann, token_id="t", session_id=uuid.uuid4()) == IdentityCheck(
        False, epoch, session_known=False
    )


async def test_a_session_the_store_never_saw_is_unknown_until_remembered(
    store: TokenStore,
) -> None:
    ann, alive, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert not (await store.check(user_id=ann, session_id=alive)).session_known
    await store.remember_session(alive, revoked=False, ttl_s=60)
    await store.remember_session(gone, revoked=True, ttl_s=60)
    assert await store.check(user_id=ann, session_id=alive) == IdentityCheck(False, 0)
    assert await store.check(user_id=ann, token_id="t", session_id=gone) == IdentityCheck(True, 0)
    assert (await store.check(user_id=ann)).session_known  # no session asked about


async def test_an_alive_record_never_hides_a_revocation(store: TokenStore) -> None:
    ann, racing, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # A database read that saw the session alive lands after the logout recorded it.
    await store.revoke_sessions([racing], ttl_s=60)
    await store.remember_session(racing, revoked=False, ttl_s=60)
    assert (await store.check(user_id=ann, session_id=racing)).revoked
    # A logout after the session was cached alive revokes it.
    await store.remember_session(later, revoked=False, ttl_s=60)
    await store.revoke_sessions([later], ttl_s=60)
    assert (await store.check(user_id=ann, session_id=later)).revoked
    assert await store.is_revoked(token_id="t", session_id=later)


async def test_a_redis_store_that_cannot_reach_redis_fails_closed_on_check_and_bump() -> None:
    async with redis_prefix(UNREACHABLE_REDIS) as (client, prefix):
        store = RedisTokenStore(client, prefix)
        with pytest.raises(TokenStoreUnavailable):
            await store.check(user_id=uuid.uuid4(), token_id="jti")
        with pytest.raises(TokenStoreUnavailable):
            await store.bump_identity_epoch(uuid.uuid4())


async def test_memory_stores_sharing_an_epoch_file_see_each_others_bumps(
    tmp_path: Path,
) -> None:
    """Embedded mode: the CLI and the server are two processes on one data directory."""
    server, cli = (MemoryTokenStore(epoch_file=tmp_path / "identity-epoch") for _ in range(2))
    ann = uuid.uuid4()
    before = (await server.check(user_id=ann)).epoch
    assert (await server.check(user_id=ann)).epoch == before  # stable while nothing changes
    await cli.bump_identity_epoch(uuid.uuid4())  # any identity change reloads every cache
    after = (await server.check(user_id=ann)).epoch
    assert after != before
    await cli.bump_identity_epoch(ann)
    assert (await server.check(user_id=ann)).epoch not in {before, after}


class _TimesOut:
    """A Redis client whose first ``times`` reads time out, as a lagging loop makes them."""

    def __init__(self, client: Any, times: int) -> None:
        self._client = client
        self.left = times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def mget(self, keys: list[str]) -> Any:
        if self.left > 0:
            self.left -= 1
            raise RedisTimeout("Timeout reading from 127.0.0.1:6379")
        return await self._client.mget(keys)


async def test_a_redis_read_that_timed_out_once_is_asked_again_not_failed() -> None:
    require_servers()
    async with redis_prefix() as (client, prefix):
        session_id = uuid.uuid4()
        await RedisTokenStore(client, prefix).revoke_sessions([session_id], ttl_s=60)
        flaky = _TimesOut(client, times=1)
        store = RedisTokenStore(flaky, prefix)  # type: ignore[arg-type]
        check = await store.check(user_id=uuid.uuid4(), token_id="jti", session_id=session_id)
        assert check.revoked  # the second answer, not a refusal
        assert flaky.left == 0


async def test_a_redis_read_that_keeps_timing_out_fails_closed() -> None:
    require_servers()
    async with redis_prefix() as (client, prefix):
        store = RedisTokenStore(_TimesOut(client, times=2), prefix)  # type: ignore[arg-type]
        with pytest.raises(TokenStoreUnavailable):
            await store.check(user_id=uuid.uuid4(), token_id="jti", session_id=uuid.uuid4())
