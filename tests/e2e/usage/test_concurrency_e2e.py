"""Quotas and limits under real concurrency, against the real `parley serve` (R12, R14):
2N concurrent requests against N left let exactly N through (and N upstream calls);
a second concurrent stream beyond the plan cap is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.usage.support import api_key, completion, server_env
from tests.support.backends import Backend
from tests.support.mock_openai import Fault, MockUpstream
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
N = 6  # the e2e plan's monthly messages
RATE = 9  # requests per minute per API key on this server


@pytest.fixture(scope="module")
def mock() -> Iterator[MockUpstream]:
    with MockUpstream.start_thread() as running:
        yield running


@pytest.fixture(scope="module")
def served(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, str]]:
    tmp = tmp_path_factory.mktemp(f"usage-e2e-{backend.name}")
    env, upstream = server_env(backend.env, mock, tmp, PARLEY_LIMITS_DEFAULT_PER_MINUTE=str(RATE))
    with run_server(env, tmp) as server:
        yield server, upstream


async def test_2n_concurrent_completions_against_n_left_let_exactly_n_through(
    served: tuple[RunningServer, str], mock: MockUpstream
) -> None:
    server, upstream = served
    key = api_key(server.base_url)
    calls = mock.calls(upstream)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        replies = await asyncio.gather(
            *(http.post("/v1/chat/completions", json=completion(), headers=key)
              for _ in range(2 * N))
        )  # fmt: skip
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] * N + [429] * N
    assert all(
        r.json()["error"]["code"] == "insufficient_quota" for r in replies if r.status_code == 429
    )
    assert mock.calls(upstream) - calls == N


async def test_a_second_concurrent_stream_beyond_the_plan_cap_is_refused(
    served: tuple[RunningServer, str], mock: MockUpstream
) -> None:
    server, upstream = served
    key = api_key(server.base_url)
    # Whichever stream reserves first holds the plan's only slot through the stall.
    mock.script(upstream, [Fault(stall_before_s=1.0), Fault(stall_before_s=1.0)])
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        both = await asyncio.gather(
            *(http.post("/v1/chat/completions", json=completion(stream=True), headers=key)
              for _ in range(2))
        )  # fmt: skip
        assert sorted(r.status_code for r in both) == [200, 429]
        refused = next(r for r in both if r.status_code == 429)
        assert refused.json()["error"]["code"] == "too_many_streams"
        assert int(refused.headers["retry-after"]) >= 1
        again = await http.post("/v1/chat/completions", json=completion(stream=True), headers=key)
        assert again.status_code == 200  # the slot was freed when the stream ended


async def test_2m_concurrent_requests_against_a_limit_of_m_let_exactly_m_through(
    served: tuple[RunningServer, str],
) -> None:
    server, _ = served
    key = api_key(server.base_url)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        replies = await asyncio.gather(
            *(http.get("/api/v1/me/dashboard", headers=key) for _ in range(2 * RATE))
        )
    assert sorted(r.status_code for r in replies) == [200] * RATE + [429] * RATE
    refused = next(r for r in replies if r.status_code == 429)
    assert refused.json()["code"] == "RATE_LIMITED" and refused.headers["ratelimit-limit"] == str(
        RATE
    )
