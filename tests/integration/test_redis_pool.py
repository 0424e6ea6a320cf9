"""The Redis client's pool: bounded under a burst (the burst waits, nothing fails), and
shrinking afterwards. Counted on the server's side too (CLIENT LIST by client name), so
"closed" means the sockets are gone, not just forgotten by the client."""

from __future__ import annotations

import asyncio
import uuid

from adapters.redis.client import ShrinkingConnectionPool, create_redis
from tests.support.backends import REDIS_URL, require_servers


def named(name: str) -> str:
    separator = "&" if "?" in REDIS_URL else "?"
    return f"{REDIS_URL}{separator}client_name={name}"


async def server_side(name: str) -> int:
    observer = create_redis(REDIS_URL, 5.0)
    try:
        listed = await observer.client_list()
        return sum(1 for client in listed if client.get("name") == name)
    finally:
        await observer.aclose()


async def test_a_burst_waits_for_the_bounded_pool_and_idle_connections_close_after() -> None:
    require_servers()
    name = f"parley-pool-{uuid.uuid4().hex[:8]}"
    client = create_redis(named(name), 5.0, max_connections=8, pool_wait_s=30.0)
    pool = client.connection_pool
    assert isinstance(pool, ShrinkingConnectionPool)
    key = f"parley-test-{uuid.uuid4().hex}"
    try:
        # Each BLPOP holds its connection for its whole wait: 64 at once need 8 rounds.
        replies = await asyncio.gather(*(client.blpop([key], timeout=0.05) for _ in range(64)))
        assert replies == [None] * 64
        assert await server_side(name) == 8
        assert pool.open_connections() == 8

        closed = await pool.close_idle(idle_for_s=0.0)
        assert closed == 6  # two stay warm
        assert pool.open_connections() == 2
        assert await server_side(name) == 2
        assert await client.ping()  # what stayed is usable; nothing was half-closed
    finally:
        await client.aclose()
    assert await server_side(name) == 0


async def test_connections_in_use_or_recently_used_are_not_closed() -> None:
    require_servers()
    name = f"parley-pool-{uuid.uuid4().hex[:8]}"
    client = create_redis(named(name), 5.0, max_connections=8, idle_close_s=3600.0)
    pool = client.connection_pool
    assert isinstance(pool, ShrinkingConnectionPool)
    key = f"parley-test-{uuid.uuid4().hex}"
    try:
        await asyncio.gather(*(client.ping() for _ in range(8)))
        holding = asyncio.create_task(client.blpop([key], timeout=2))
        while pool.get_connection_count()[1][0] < 1:
            await asyncio.sleep(0.01)
        assert await pool.close_idle() == 0  # all were used within the hour
        await pool.close_idle(idle_for_s=0.0)
        assert await holding is None  # the connection in use was left alone
    finally:
        await client.aclose()
