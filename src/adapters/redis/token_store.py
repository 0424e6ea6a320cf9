"""Redis revocation store: shared by every API instance, entries expire with SET EX.

A session key holds ``1`` (revoked) or ``0`` (alive, as the database last said); a missing
key means the store does not know, and the caller asks the database (see the port)."""

from __future__ import annotations

import secrets
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout

from adapters.redis.autopipeline import AutoPipeline
from application.ports.token_store import IdentityCheck, TokenStore, TokenStoreUnavailable

# An epoch key that expired or was evicted reads as 0, which differs from any value a
# bump wrote, so losing it only causes a reload, never a stale hit.
_EPOCH_TTL_S = 30 * 24 * 3600
_REVOKED = b"1"
_ALIVE = b"0"


class RedisTokenStore(TokenStore):
    def __init__(
        self, redis: Redis, key_prefix: str, reads: AutoPipeline | Redis | None = None
    ) -> None:
        """``reads``: where the per-request revocation read goes (an ``AutoPipeline``, so
        the reads of concurrent requests share round trips); the client by default."""
        self._redis = redis
        self._reads = reads if reads is not None else redis
        self._prefix = f"{key_prefix}revoked:"
        self._epoch_prefix = f"{key_prefix}identity-epoch:"

    async def revoke_token(self, token_id: str, ttl_s: int) -> None:
        try:
            await self._redis.set(f"{self._prefix}jti:{token_id}", b"1", ex=max(ttl_s, 1))
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable("cannot record the revocation; try again") from exc

    async def revoke_sessions(self, session_ids: list[UUID], ttl_s: int) -> None:
        if not session_ids:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.set(f"{self._prefix}sid:{session_id}", _REVOKED, ex=max(ttl_s, 1))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable("cannot record the revocation; try again") from exc

    async def remember_session(self, session_id: UUID, *, revoked: bool, ttl_s: int) -> None:
        key = f"{self._prefix}sid:{session_id}"
        try:
            if revoked:
                await self._redis.set(key, _REVOKED, ex=max(ttl_s, 1))
            else:  # NX: a revocation written since the database was read stays
                await self._redis.set(key, _ALIVE, ex=max(ttl_s, 1), nx=True)
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable("cannot check token revocation right now") from exc

    async def _mget(self, keys: list[str]) -> list[bytes | str | None]:
        """One read, tried a second time after a timeout: an event loop that lags (a burst
        of requests on one process) fires the socket timeout on a reply that has already
        arrived but was not read yet, and failing closed then refuses a valid credential.
        An unreachable server still fails: refused at once, or after a second timeout."""
        try:
            return await self._reads.mget(keys)
        except RedisTimeout:
            return await self._reads.mget(keys)

    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        keys = [f"{self._prefix}jti:{token_id}"]
        if session_id is not None:
            keys.append(f"{self._prefix}sid:{session_id}")
        try:
            values = await self._mget(keys)  # one round trip for both keys
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable(
                "cannot check token revocation right now; try again shortly"
            ) from exc
        return any(value == _REVOKED for value in values)

    async def check(
        self, *, user_id: UUID, token_id: str | None = None, session_id: UUID | None = None
    ) -> IdentityCheck:
        keys = [
            f"{self._epoch_prefix}{user_id}",
            f"{self._prefix}jti:{token_id}" if token_id is not None else None,
            f"{self._prefix}sid:{session_id}" if session_id is not None else None,
        ]
        try:  # one round trip for flags and epoch
            values = await self._mget([key for key in keys if key is not None])
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable(
                "cannot check token revocation right now; try again shortly"
            ) from exc
        epoch = int(values[0]) if values[0] is not None else 0
        token_revoked = token_id is not None and values[1] is not None
        session = values[-1] if session_id is not None else _ALIVE
        return IdentityCheck(
            revoked=token_revoked or session == _REVOKED,
            epoch=epoch,
            session_known=session is not None,
        )

    async def bump_identity_epoch(self, user_id: UUID) -> None:
        # A fresh random value rather than INCR: even if the key is lost and bumped again,
        # it cannot come back to a value some instance has cached.
        epoch = secrets.randbits(62) + 1
        try:
            await self._redis.set(f"{self._epoch_prefix}{user_id}", epoch, ex=_EPOCH_TTL_S)
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable("cannot record the change; try again") from exc
