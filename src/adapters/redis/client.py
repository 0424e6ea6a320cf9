"""One redis.asyncio client per process, with short timeouts so outages fail fast."""

from __future__ import annotations

import time

from redis.asyncio import BlockingConnectionPool, Redis

from application.health.readiness import ComponentHealth, HealthProbe


def create_redis(
    url: str,
    socket_timeout_s: float = 1.0,
    *,
    max_connections: int = 100,
    pool_wait_s: float | None = None,
) -> Redis:
    """A client whose pool makes a burst wait (up to the socket timeout) for a free
    connection instead of failing at once with "Too many connections", as redis-py's
    default pool does once ``max_connections`` commands are in flight. An unreachable
    server still fails within the socket timeout: its connections are never held."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_wait_s if pool_wait_s is not None else socket_timeout_s,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        health_check_interval=15,
        retry_on_timeout=False,
        decode_responses=False,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


class RedisProbe(HealthProbe):
    name = "cache"
    critical = False

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def check(self) -> ComponentHealth:
        started = time.perf_counter()
        try:
            await self._redis.ping()
        except Exception as exc:
            return ComponentHealth(
                "down", _ms(started), f"redis unreachable ({type(exc).__name__})"
            )
        return ComponentHealth("ok", _ms(started), "redis")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
