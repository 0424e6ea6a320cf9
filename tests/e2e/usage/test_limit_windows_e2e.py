"""Limits with several windows (SPEC conventions, R12) on two real instances sharing
Redis: a concurrent burst is admitted exactly up to the window that binds, and each 429
names that window in `detail` with a Retry-After no longer than it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.usage.support import api_key, completion, server_env
from tests.support.backends import Backend
from tests.support.mock_openai import MockUpstream
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
BURST = 10


@pytest.fixture(scope="module")
def pair(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    if not backend.uses_redis:
        pytest.skip("instances share limits through Redis: the postgres backend only")
    tmp = tmp_path_factory.mktemp("limit-windows")
    with MockUpstream.start_thread() as mock:
        env, _ = server_env(
            backend.env,
            mock,
            tmp,
            PARLEY_LIMITS_DEFAULT="3/10 seconds;100/hour",  # the short window binds
            PARLEY_LIMITS_CHAT="50/10 seconds;4/hour",  # the long window binds
        )
        with run_server(env, tmp) as first, run_server(env, tmp) as second:
            yield first, second


async def start_of_window(period_s: int, room_s: float) -> None:
    """Sliding windows are counted in buckets aligned on the clock; a burst that straddles
    a bucket edge is weighed against the previous bucket. Start where it cannot."""
    if time.time() % period_s > period_s - room_s:
        await asyncio.sleep(period_s - time.time() % period_s + 0.05)


async def burst(pair: tuple[RunningServer, RunningServer], method: str, path: str, **kw):
    async with httpx.AsyncClient(timeout=30) as http:
        return await asyncio.gather(
            *(http.request(method, f"{pair[i % 2].base_url}{path}", **kw) for i in range(BURST))
        )


async def test_the_short_window_admits_exactly_its_amount_and_is_named(pair) -> None:
    key = api_key(pair[0].base_url)  # (registration counts per IP, not per key)
    await start_of_window(10, room_s=6)
    replies = await burst(pair, "GET", "/api/v1/me/dashboard", headers=key)
    assert sorted(r.status_code for r in replies) == [200] * 3 + [429] * (BURST - 3)
    for refused in (r for r in replies if r.status_code == 429):
        assert refused.json()["code"] == "RATE_LIMITED"
        assert "3 per 10 seconds" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 10
        assert refused.headers["ratelimit-limit"] == "3"


async def test_the_long_window_admits_exactly_its_amount_and_is_named(pair) -> None:
    key = api_key(pair[1].base_url)
    await start_of_window(3600, room_s=60)
    replies = await burst(pair, "POST", "/v1/chat/completions", json=completion(), headers=key)
    assert sorted(r.status_code for r in replies) == [200] * 4 + [429] * (BURST - 4)
    for refused in (r for r in replies if r.status_code == 429):
        assert "4 per hour" in refused.json()["error"]["message"], refused.text
        assert 10 < int(refused.headers["retry-after"]) <= 3600
        assert refused.headers["ratelimit-limit"] == "4"
