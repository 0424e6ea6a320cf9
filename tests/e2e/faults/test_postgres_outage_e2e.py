"""PostgreSQL down, refusing connections or frozen (R21): requests fail fast with 503
DATABASE_UNAVAILABLE (never 500, never a hang), readiness says so quickly, the log holds
no traceback, and the service recovers by itself. A private cluster is shut down and
frozen (SIGSTOP) under a running server; the shared PostgreSQL is never touched."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from tests.support.backends import Backend, migrate
from tests.support.private_postgres import PrivatePostgres, private_postgres
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
# A hang guard only: without bounded database timeouts these requests took 10-15 s.
HANG_GUARD_S = 8.0


@pytest.fixture(scope="module")
def stack(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PrivatePostgres, RunningServer]]:
    if not backend.uses_redis:
        pytest.skip("the embedded SQLite file has no server to stop or freeze")
    tmp = tmp_path_factory.mktemp("pg-outage")
    with private_postgres() as cluster:
        asyncio.run(migrate(cluster.url))
        env = {
            **backend.env,
            "PARLEY_DATABASE_URL": cluster.url,
            "PARLEY_REDIS_KEY_PREFIX": f"pg-outage-{uuid.uuid4().hex[:8]}:",
        }
        with run_server(env, tmp) as server:
            yield cluster, server


def api_key(base_url: str) -> dict[str, str]:
    email = f"pg-{uuid.uuid4().hex[:10]}@example.com"
    pair = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery staple"},
        timeout=10,
    ).json()
    created = httpx.post(
        f"{base_url}/api/v1/api-keys",
        json={"name": "pg"},
        headers={"Authorization": f"Bearer {pair['access_token']}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


async def burst(server: RunningServer, headers: dict[str, str], n: int) -> list[httpx.Response]:
    """Reads and writes at once, each needing the database."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=HANG_GUARD_S) as http:
        calls = []
        for i in range(n):
            if i % 2:
                calls.append(http.get("/api/v1/conversations", headers=headers))
            else:
                calls.append(http.post("/api/v1/conversations", json={}, headers=headers))
        return list(await asyncio.gather(*calls))


def assert_unavailable(replies: list[httpx.Response]) -> None:
    for reply in replies:
        assert reply.status_code == 503, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert reply.json()["code"] == "DATABASE_UNAVAILABLE"
        assert "retry-after" in reply.headers


def recovered(server: RunningServer, headers: dict[str, str]) -> bool:
    for _ in range(100):
        reply = httpx.get(f"{server.base_url}/api/v1/conversations", headers=headers, timeout=5)
        if reply.status_code == 200:
            return True
        assert reply.status_code == 503, reply.text
        time.sleep(0.1)
    return False


def assert_quiet_log(server: RunningServer) -> None:
    logs = server.logs()
    assert "Traceback" not in logs
    assert "Task exception was never retrieved" not in logs
    assert "unhandled_error" not in logs


async def test_a_database_that_refuses_connections_gives_503_then_recovers(
    stack: tuple[PrivatePostgres, RunningServer],
) -> None:
    cluster, server = stack
    key = api_key(server.base_url)
    assert (await burst(server, key, 4))[0].status_code == 201
    # A smart shutdown with one session left open: the server refuses every new connection
    # ("the database system is shutting down", SQLSTATE 57P03, as while starting up), and
    # the open session ends the server's own pooled connections.
    holder = await asyncpg.connect(cluster.url.replace("+asyncpg", ""))
    try:
        cluster.stop("smart", wait=False)
        await holder.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        assert_unavailable(await burst(server, key, 8))
        ready = httpx.get(f"{server.base_url}/health/ready", timeout=HANG_GUARD_S)
        assert ready.status_code == 503
        assert ready.json()["components"]["database"]["status"] == "down"
        await holder.close()
        cluster.stop("fast")
        assert_unavailable(await burst(server, key, 4))  # down altogether: refused
    finally:
        await holder.close()
        cluster.stop("fast")
        cluster.start()
    assert recovered(server, key)
    assert_quiet_log(server)


async def test_a_frozen_database_gives_503_fast_and_readiness_answers(
    stack: tuple[PrivatePostgres, RunningServer],
) -> None:
    cluster, server = stack
    key = api_key(server.base_url)
    assert (await burst(server, key, 4))[0].status_code == 201
    cluster.freeze()
    try:
        assert_unavailable(await burst(server, key, 6))
        ready = httpx.get(f"{server.base_url}/health/ready", timeout=HANG_GUARD_S)
        assert ready.status_code == 503
        assert ready.json()["components"]["database"]["status"] == "down"
    finally:
        cluster.thaw()
    assert recovered(server, key)
    assert_quiet_log(server)
