"""Redis revocation store: shared by every API instance, entries expire with SET EX."""

from __future__ import annotations

from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.ports.token_store import TokenStore, TokenStoreUnavailable


class RedisTokenStore(TokenStore):
    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}revoked:"

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
                    pipe.set(f"{self._prefix}sid:{session_id}", b"1", ex=max(ttl_s, 1))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable("cannot record the revocation; try again") from exc

    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        keys = [f"{self._prefix}jti:{token_id}"]
        if session_id is not None:
            keys.append(f"{self._prefix}sid:{session_id}")
        try:
            found = await self._redis.exists(*keys)  # one round trip for both keys
        except (RedisError, OSError) as exc:
            raise TokenStoreUnavailable(
                "cannot check token revocation right now; try again shortly"
            ) from exc
        return int(found) > 0
