"""Errors under load leave one structured log line each (STYLE: log at boundaries): every
503 refused because the connection pool stayed full, and every stream broken because its
generation log became unreachable. PostgreSQL + Redis (a private redis-server)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.e2e.chat.streams import API, new_conversation, sign_up
from tests.integration.usage.private_redis import PrivateRedis, private_redis
from tests.support.backends import Backend
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e


def lines_with(server: RunningServer, event: str, request_id: str) -> list[str]:
    pattern = re.compile(rf"\b{event}\b.*request_id={request_id}\b")
    return [line for line in server.logs().splitlines() if pattern.search(line)]


@pytest.fixture(scope="module")
def stack_env(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PrivateRedis, dict[str, str], Path]]:
    if not backend.uses_redis:
        pytest.skip("pool waits and a dying Redis: the server backend")
    tmp: Path = tmp_path_factory.mktemp("logged")
    with private_redis(tmp) as redis:
        env = {
            **backend.env,
            "PARLEY_REDIS_URL": redis.url,
            "PARLEY_REDIS_KEY_PREFIX": f"logged-{uuid.uuid4().hex[:8]}:",
            "PARLEY_REDIS_SOCKET_TIMEOUT_S": "0.5",
            # One pooled connection that a caller gives up on almost at once: a burst
            # of requests is refused for a full pool.
            "PARLEY_DATABASE_POOL_SIZE": "1",
            "PARLEY_DATABASE_MAX_OVERFLOW": "0",
            "PARLEY_DATABASE_POOL_TIMEOUT_S": "0.01",
            "PARLEY_FAKE_GAP_MS": "20",
        }
        yield redis, env, tmp


@pytest.fixture(scope="module")
def stack(
    stack_env: tuple[PrivateRedis, dict[str, str], Path],
) -> Iterator[tuple[PrivateRedis, RunningServer]]:
    redis, env, tmp = stack_env
    with run_server(env, tmp) as server:
        yield redis, server


@pytest.fixture(scope="module")
def peer(stack_env: tuple[PrivateRedis, dict[str, str], Path]) -> Iterator[RunningServer]:
    """Another instance on the same Redis and database: it runs the reply that the
    instance under test follows (a stream of the instance that runs the reply is served
    from its own memory, and does not break when Redis dies)."""
    _, env, tmp = stack_env
    with run_server(env, tmp) as server:
        yield server


async def test_every_refusal_for_a_full_pool_is_logged_once(
    stack: tuple[PrivateRedis, RunningServer],
) -> None:
    _, server = stack
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        headers = await sign_up(http)
        replies = await asyncio.gather(*(http.get(API, headers=headers) for _ in range(40)))
    refused = [r for r in replies if r.status_code == 503]
    assert refused, "a burst on a one-connection pool should be refused at least once"
    for reply in refused:
        body = reply.json()
        assert body["code"] == "DATABASE_UNAVAILABLE"
        logged = lines_with(server, "dependency_unavailable", body["request_id"])
        assert len(logged) == 1, logged
        assert "cause=" in logged[0] and "DATABASE_UNAVAILABLE" in logged[0]


async def test_a_stream_broken_by_a_dying_redis_is_logged_once(
    stack: tuple[PrivateRedis, RunningServer], peer: RunningServer
) -> None:
    redis, server = stack
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        httpx.AsyncClient(base_url=peer.base_url, timeout=30) as on_peer,
    ):
        headers = await sign_up(http)
        conversation = await new_conversation(http, headers)
        body = {"content": "tell me a long story " * 100, "stream": True}
        start = f"{API}/{conversation}/messages"  # about 10 s: still running when followed
        async with aconnect_sse(on_peer, "POST", start, json=body, headers=headers) as started:
            generation = json.loads((await anext(started.aiter_sse())).data)["generation_id"]
        url = f"{API}/{conversation}/generations/{generation}/events"
        events: list[tuple[str, dict]] = []
        try:
            async with aconnect_sse(http, "GET", url, headers=headers) as source:
                request_id = source.response.headers["x-request-id"]
                async for sse in source.aiter_sse():
                    events.append((sse.event, json.loads(sse.data)))
                    if sse.event == "delta" and len(events) == 3:
                        redis.stop()
        finally:
            redis.start()
    kind, data = events[-1]
    assert kind == "error", events[-3:]
    logged = lines_with(server, "sse_stream_broken", request_id)
    assert len(logged) == 1, logged
    assert data["code"] in logged[0]
