"""Two `parley serve` instances sharing one PostgreSQL database and one Redis prefix
(R12, R14): quotas and rate limits hold across them exactly, under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.usage.support import api_key, completion, server_env
from tests.support.backends import Backend
from tests.support.mock_openai import MockUpstream
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
N = 6  # the e2e plan's monthly messages
RATE = 7  # requests per minute per API key


@pytest.fixture(scope="module")
def mock() -> Iterator[MockUpstream]:
    with MockUpstream.start_thread() as running:
        yield running


@pytest.fixture(scope="module")
def pair(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer, str]]:
    if not backend.uses_redis:
        pytest.skip("instances share limits through Redis: the postgres backend only")
    tmp = tmp_path_factory.mktemp("two-instances")
    env, upstream = server_env(backend.env, mock, tmp, PARLEY_LIMITS_DEFAULT_PER_MINUTE=str(RATE))
    with run_server(env, tmp) as first, run_server(env, tmp) as second:
        yield first, second, upstream


def split(pair: tuple[RunningServer, RunningServer, str], i: int) -> str:
    return pair[i % 2].base_url


async def test_a_quota_holds_exactly_across_two_instances(
    pair: tuple[RunningServer, RunningServer, str], mock: MockUpstream
) -> None:
    key = api_key(pair[0].base_url)
    calls = mock.calls(pair[2])
    async with httpx.AsyncClient(timeout=30) as http:
        replies = await asyncio.gather(
            *(http.post(f"{split(pair, i)}/v1/chat/completions", json=completion(), headers=key)
              for i in range(2 * N))
        )  # fmt: skip
    assert sorted(r.status_code for r in replies) == [200] * N + [429] * N
    assert mock.calls(pair[2]) - calls == N
    # Each instance writes its own usage when asked for a report: ask both, then read.
    for server in pair[:2]:
        usage = httpx.get(f"{server.base_url}/api/v1/me/usage?period=1d", headers=key, timeout=10)
    assert usage.json()["totals"]["messages"] == N


async def test_a_rate_limit_holds_exactly_across_two_instances(
    pair: tuple[RunningServer, RunningServer, str],
) -> None:
    key = api_key(pair[1].base_url)
    async with httpx.AsyncClient(timeout=30) as http:
        replies = await asyncio.gather(
            *(http.get(f"{split(pair, i)}/api/v1/me/dashboard", headers=key)
              for i in range(2 * RATE))
        )  # fmt: skip
    assert sorted(r.status_code for r in replies) == [200] * RATE + [429] * RATE
