"""Redis down (R20): spending fails closed (503, zero upstream calls), what does not need
Redis keeps working, security checks fail closed, and everything recovers when Redis
returns, without a restart. A private redis-server is stopped and started again."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from httpx import AsyncClient, Response

from tests.integration.usage.harness import chat, harness
from tests.integration.usage.private_redis import private_redis
from tests.support.backends import Backend
from tests.support.identity import register
from tests.support.mock_openai import MockUpstream


async def eventually_ok(call) -> Response:
    """The first command on a pooled connection Redis dropped may still fail once."""
    for _ in range(20):
        response: Response = await call()
        if response.status_code == 200:
            return response
        await asyncio.sleep(0.1)
    return response


async def completion(http: AsyncClient, key: dict[str, str]) -> Response:
    return await http.post("/v1/chat/completions", json=chat(), headers=key)


async def test_spending_fails_closed_the_rest_keeps_serving_and_all_recovers(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("outage")
    with private_redis(tmp) as redis:
        env = {
            "PARLEY_REDIS_URL": redis.url,
            "PARLEY_REDIS_KEY_PREFIX": f"outage-{uuid.uuid4().hex[:8]}:",
            "PARLEY_REDIS_SOCKET_TIMEOUT_S": "0.5",
        }
        async with harness(backend, mock, tmp, **env) as h:
            me = await register(h.http)
            await h.set_plan(me, "tiny")  # two messages this month
            key = await h.api_key(me)
            assert (await completion(h.http, key)).status_code == 200
            calls = h.upstream_calls()

            redis.stop()
            refused = await completion(h.http, key)
            assert refused.status_code == 503, refused.text
            assert "retry-after" in refused.headers
            assert h.upstream_calls() == calls  # no upstream call without a reservation
            created = await h.http.post("/api/v1/conversations", json={}, headers=key)
            assert created.status_code == 201  # the database alone serves this
            url = f"/api/v1/conversations/{created.json()['id']}/messages"
            turn = await h.http.post(url, json={"content": "hi"}, headers=key)
            assert turn.status_code == 503 and turn.json()["code"] == "QUOTA_UNAVAILABLE"
            assert (await h.http.get(url, headers=key)).json()["items"] == []
            for path in ("/v1/models", "/api/v1/me/usage", "/api/v1/me/dashboard"):
                assert (await h.http.get(path, headers=key)).status_code == 200, path
            assert (await h.http.get("/health/live")).status_code == 200
            assert (await h.http.get("/metrics")).status_code == 200
            ready = await h.http.get("/health/ready")
            assert ready.json()["components"]["cache"]["status"] == "down"
            # Signed-in sessions cannot be checked for revocation: refused, never let in.
            session = await h.http.get("/api/v1/auth/me", headers=me.headers)
            assert session.status_code == 503
            assert h.upstream_calls() == calls

            redis.start()  # empty: no persistence
            assert (await eventually_ok(lambda: completion(h.http, key))).status_code == 200
            assert (await h.http.get("/api/v1/auth/me", headers=me.headers)).status_code == 200
            # The emptied ledger was re-seeded from the database: the month's quota holds.
            exhausted = await completion(h.http, key)
            assert exhausted.status_code == 429
            assert exhausted.json()["error"]["code"] == "insufficient_quota"
            assert h.upstream_calls() == calls + 1
