"""One redis.asyncio client per process, with short timeouts so outages fail fast, and
a pool that is bounded and shrinks again after a burst."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError

from application.health.readiness import ComponentHealth, HealthProbe


def create_redis(
    url: str,
    socket_timeout_s: float = 1.0,
    *,
    max_connections: int = 100,
    pool_wait_s: float | None = None,
    idle_close_s: float = 60.0,
) -> Redis:
    """A client whose pool makes a burst wait (up to the socket timeout) for a free
    connection instead of failing at once with "Too many connections", as redis-py's
    default pool does once ``max_connections`` commands are in flight. An unreachable
    server still fails within the socket timeout: its connections are never held.
    Connections left idle for ``idle_close_s`` are closed (see ShrinkingConnectionPool)."""
    pool = ShrinkingConnectionPool.from_url(
        url,
        idle_close_s=idle_close_s,
        max_connections=max_connections,
        timeout=pool_wait_s if pool_wait_s is not None else socket_timeout_s,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        health_check_interval=15,
        retry_on_timeout=False,
        decode_responses=False,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


class ShrinkingConnectionPool(BlockingConnectionPool):
    """redis-py's pools keep every connection they ever opened: a burst of 500 concurrent
    commands leaves 500 connections open for the life of the process. This one closes
    those idle for ``idle_close_s`` (checked every half period by one task, started by the
    first release), keeping the ``keep_idle`` most recently used ones warm.

    Idle connections are handed out last-in first-out, so the ones at the front of the
    idle list are the ones a steady load no longer needs."""

    def __init__(self, *args: Any, idle_close_s: float, keep_idle: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.idle_close_s = idle_close_s
        self._keep_idle = keep_idle
        self._released_at: dict[int, float] = {}
        self._closer: asyncio.Task[None] | None = None

    async def release(self, connection: AbstractConnection) -> None:
        self._released_at[id(connection)] = time.monotonic()
        await super().release(connection)
        if self._closer is None or self._closer.done():
            self._closer = asyncio.create_task(self._close_idle_forever(), name="redis-idle")

    async def close_idle(self, idle_for_s: float | None = None) -> int:
        """Close connections idle for at least ``idle_for_s`` (default: the pool's
        period), beyond the few kept warm; how many were closed."""
        cutoff = time.monotonic() - (self.idle_close_s if idle_for_s is None else idle_for_s)
        idle = self._available_connections
        stale = [
            c
            for c in idle[: max(0, len(idle) - self._keep_idle)]
            if self._released_at.get(id(c), 0.0) <= cutoff
        ]
        for connection in stale:
            # Out of the idle list first, synchronously: nobody can take it meanwhile.
            idle.remove(connection)
            self._released_at.pop(id(connection), None)
        for connection in stale:
            with contextlib.suppress(RedisError, OSError):
                await connection.disconnect()
        return len(stale)

    def open_connections(self) -> int:
        """Connections with a live socket, idle or in use."""
        everyone = [*self._available_connections, *self._in_use_connections]
        return sum(1 for c in everyone if c.is_connected)

    async def aclose(self) -> None:
        if self._closer is not None:
            self._closer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._closer
        await super().aclose()

    async def _close_idle_forever(self) -> None:
        while True:
            await asyncio.sleep(self.idle_close_s / 2)
            await self.close_idle()


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
