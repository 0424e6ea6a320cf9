"""A logout outlives the revocation store's memory (R8): the database is the record of
sessions and Redis (or the embedded process's memory) only caches it.

PostgreSQL + Redis: a private redis-server is restarted empty under a running server.
Embedded: the server process itself is restarted (its in-process store starts empty)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.usage.private_redis import private_redis
from tests.support.backends import Backend
from tests.support.server import run_server

pytestmark = pytest.mark.e2e


def sign_up(base_url: str) -> dict[str, str]:
    email = f"revoke-{uuid.uuid4().hex[:10]}@example.com"
    reply = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery staple"},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def me(base_url: str, headers: dict[str, str]) -> int:
    """Status of GET /me, once the server answers again after its store came back (the
    first command on a connection Redis dropped may still fail: 503, retried here)."""
    status = 503
    for _ in range(50):
        status = httpx.get(f"{base_url}/api/v1/auth/me", headers=headers, timeout=10).status_code
        if status != 503:
            return status
        time.sleep(0.1)
    return status


def log_out(base_url: str, headers: dict[str, str]) -> None:
    reply = httpx.post(f"{base_url}/api/v1/auth/logout", json={}, headers=headers, timeout=10)
    assert reply.status_code == 204, reply.text
    assert me(base_url, headers) == 401


def test_a_logged_out_token_stays_dead_after_the_revocation_store_loses_its_data(
    backend: Backend, tmp_path: Path
) -> None:
    if backend.uses_redis:
        with private_redis(tmp_path) as redis:
            env = {**backend.env, "PARLEY_REDIS_URL": redis.url}
            with run_server(env, tmp_path) as server:
                gone, kept = sign_up(server.base_url), sign_up(server.base_url)
                log_out(server.base_url, gone)
                redis.stop()
                redis.start()  # no persistence: every revocation entry is lost
                assert me(server.base_url, gone) == 401
                assert me(server.base_url, kept) == 200
                assert me(server.base_url, gone) == 401  # and again, now from the cache
        return
    env = {**backend.env, "PARLEY_DATA_DIR": str(tmp_path)}
    with run_server(env, tmp_path) as server:
        gone, kept = sign_up(server.base_url), sign_up(server.base_url)
        log_out(server.base_url, gone)
    with run_server(env, tmp_path) as restarted:
        assert me(restarted.base_url, gone) == 401
        assert me(restarted.base_url, kept) == 200
