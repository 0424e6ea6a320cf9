"""Redis cache shared by every instance; entries expire with SET EX, so Redis's own
eviction policy (``maxmemory-policy``) bounds it. Hit and miss counters are global too."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.ports.response_cache import Cache, CacheStats, CacheUnavailable

# Read and count in one round trip.
_GET = """
local value = redis.call('GET', KEYS[1])
redis.call('HINCRBY', KEYS[2], value and 'hits' or 'misses', 1)
return value
"""


class RedisCache(Cache):
    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}cache:"
        self._stats = f"{key_prefix}cache-stats"
        self._get = redis.register_script(_GET)

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._get(keys=[self._prefix + key, self._stats])
        except (RedisError, OSError) as exc:
            raise CacheUnavailable("the cache is unavailable") from exc
        return bytes(value) if value else None

    async def set(self, key: str, value: bytes, ttl_s: int) -> None:
        try:
            await self._redis.set(self._prefix + key, value, ex=max(1, ttl_s))
        except (RedisError, OSError) as exc:
            raise CacheUnavailable("the cache is unavailable") from exc

    async def stats(self) -> CacheStats:
        try:
            raw = await self._redis.hgetall(self._stats)
        except (RedisError, OSError) as exc:
            raise CacheUnavailable("the cache is unavailable") from exc
        return CacheStats(int(raw.get(b"hits", 0)), int(raw.get(b"misses", 0)))
