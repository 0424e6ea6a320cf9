"""`parley serve --workers N`: the embedded default refuses more than one worker (its
limits, quotas, token cache, bus, stream logs and job queue are per process); with
PostgreSQL and Redis, two workers of one server share every rule exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.usage.support import api_key, completion, server_env
from tests.support.backends import TEST_ENV, Backend
from tests.support.cli import run_cli
from tests.support.mock_openai import MockUpstream
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
N = 6  # the e2e plan's monthly messages


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_embedded_default_refuses_several_workers(tmp_path: Path, how: str) -> None:
    env = {"PARLEY_DATA_DIR": str(tmp_path), "PARLEY_ENV": "test", **TEST_ENV}
    if how == "flag":
        result = run_cli("serve", "--port", "0", "--workers", "2", env=env, timeout=60)
    else:
        result = run_cli("serve", "--port", "0", env={**env, "PARLEY_WORKERS": "2"}, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing --workers 2" in result.stderr and "PARLEY_REDIS_URL" in result.stderr
    assert not (tmp_path / "parley.db").exists()  # refused before touching anything


@pytest.fixture(scope="module")
def mock() -> Iterator[MockUpstream]:
    with MockUpstream.start_thread() as running:
        yield running


@pytest.fixture(scope="module")
def two_workers(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, str]]:
    if not backend.uses_redis:
        pytest.skip("several workers need Redis: the postgres backend only")
    tmp = tmp_path_factory.mktemp("two-workers")
    env, upstream = server_env(backend.env, mock, tmp)
    with run_server(env, tmp, args=("--workers", "2"), ready_timeout_s=60) as server:
        yield server, upstream


def worker_pids(server: RunningServer) -> list[int]:
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children]


async def fresh_connections(n: int, method: str, url: str, **kwargs: object) -> list[int]:
    """``n`` requests, each on its own new connection (spread over the workers' accepts)."""

    async def one() -> int:
        async with httpx.AsyncClient(timeout=30) as http:
            return (await http.request(method, url, **kwargs)).status_code  # type: ignore[arg-type]

    return list(await asyncio.gather(*(one() for _ in range(n))))


def test_two_worker_processes_serve(two_workers: tuple[RunningServer, str]) -> None:
    server, _ = two_workers
    # uvicorn's supervisor plus its two workers (and the multiprocessing helper)
    assert len(worker_pids(server)) >= 2


async def test_a_quota_holds_exactly_across_two_workers(
    two_workers: tuple[RunningServer, str], mock: MockUpstream
) -> None:
    server, upstream = two_workers
    key = api_key(server.base_url)
    calls = mock.calls(upstream)
    url = f"{server.base_url}/v1/chat/completions"
    statuses = await fresh_connections(2 * N, "POST", url, json=completion(), headers=key)
    assert sorted(statuses) == [200] * N + [429] * N
    assert mock.calls(upstream) - calls == N


async def test_a_logout_holds_on_every_worker_at_once(
    two_workers: tuple[RunningServer, str],
) -> None:
    server, _ = two_workers
    registered = httpx.post(
        f"{server.base_url}/api/v1/auth/register",
        json={"email": "workers@example.com", "password": "Workers-password-1"},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    me = f"{server.base_url}/api/v1/auth/me"
    assert await fresh_connections(10, "GET", me, headers=auth) == [200] * 10
    out = httpx.post(f"{server.base_url}/api/v1/auth/logout", headers=auth, timeout=10)
    assert out.status_code in (200, 204), out.text
    assert await fresh_connections(20, "GET", me, headers=auth) == [401] * 20
