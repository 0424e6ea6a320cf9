"""Request rate limits per route group (R12): 429 RATE_LIMITED with Retry-After and
RateLimit-* headers, RateLimit-* on allowed responses too, per user, per API key, per IP
for anonymous callers; chat sends share one budget across transports.

Limits keep their windows in Redis on the server backend, shared by the whole session:
each test uses its own limit amounts (part of the window's key) and fresh accounts.
Across processes and X-Forwarded-For: tests/e2e/usage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.integration.usage.harness import Harness, chat, harness
from tests.support.backends import Backend
from tests.support.identity import register
from tests.support.mock_openai import MockUpstream

DASHBOARD = "/api/v1/me/dashboard"


@pytest.fixture
def limited(backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory):
    @asynccontextmanager
    async def make(**env: str) -> AsyncIterator[Harness]:
        async with harness(backend, mock, tmp_path_factory.mktemp("limits"), **env) as h:
            yield h

    return make


async def test_allowed_responses_count_down_and_the_next_is_a_429_with_headers(
    limited,
) -> None:
    async with limited(PARLEY_LIMITS_DEFAULT_PER_MINUTE="5") as h:
        me = await register(h.http)
        remaining = []
        for _ in range(5):
            ok = await h.http.get(DASHBOARD, headers=me.headers)
            assert ok.status_code == 200 and ok.headers["ratelimit-limit"] == "5"
            remaining.append(int(ok.headers["ratelimit-remaining"]))
            assert 1 <= int(ok.headers["ratelimit-reset"]) <= 60
        assert remaining == [4, 3, 2, 1, 0]
        refused = await h.http.get(DASHBOARD, headers=me.headers)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "RATE_LIMITED"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-limit"] == "5"
        assert refused.headers["ratelimit-remaining"] == "0"
        other = await register(h.http)
        assert (await h.http.get(DASHBOARD, headers=other.headers)).status_code == 200


async def test_an_api_key_has_its_own_budget(limited) -> None:
    async with limited(PARLEY_LIMITS_DEFAULT_PER_MINUTE="3") as h:
        me = await register(h.http)
        key = await h.api_key(me)  # the session's first request
        for _ in range(2):
            assert (await h.http.get(DASHBOARD, headers=me.headers)).status_code == 200
        assert (await h.http.get(DASHBOARD, headers=me.headers)).status_code == 429
        assert (await h.http.get(DASHBOARD, headers=key)).status_code == 200


async def test_anonymous_requests_and_bad_credentials_are_limited_per_address(
    limited,
) -> None:
    async with limited(PARLEY_LIMITS_DEFAULT_PER_MINUTE="4") as h:
        statuses = [
            (await h.http.get(DASHBOARD, headers={"Authorization": "Bearer pk_guess"})).status_code
            for _ in range(4)
        ]
        assert statuses == [401] * 4
        assert (await h.http.get(DASHBOARD)).status_code == 429
        register_again = await h.http.post(
            "/api/v1/auth/register", json={"email": "x@example.com", "password": "long enough pw"}
        )
        assert register_again.status_code == 429


async def test_chat_sends_share_one_budget_across_rest_and_v1(limited) -> None:
    async with limited(PARLEY_LIMITS_CHAT_PER_MINUTE="3") as h:
        me = await register(h.http)
        key = await h.api_key(me)
        created = await h.http.post("/api/v1/conversations", json={}, headers=me.headers)
        url = f"/api/v1/conversations/{created.json()['id']}/messages"
        assert (await h.http.post(url, json={"content": "a"}, headers=me.headers)).is_success
        assert (await h.http.post("/v1/chat/completions", json=chat(), headers=key)).is_success
        assert (await h.http.post(url, json={"content": "b"}, headers=me.headers)).is_success
        refused = await h.http.post(url, json={"content": "c"}, headers=me.headers)
        assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
        assert refused.headers["ratelimit-limit"] == "3"
        v1 = await h.http.post("/v1/chat/completions", json=chat(), headers=key)
        assert v1.status_code == 429 and v1.json()["error"]["code"] == "rate_limit_exceeded"
        # Other routes have their own (default) budget.
        assert (await h.http.get(url, headers=me.headers)).status_code == 200


async def test_a_multi_window_chat_limit_holds_for_every_send_route_and_names_its_window(
    limited,
) -> None:
    async with limited(PARLEY_LIMITS_CHAT="50/second;3/hour") as h:
        me = await register(h.http)
        key = await h.api_key(me)
        created = await h.http.post("/api/v1/conversations", json={}, headers=me.headers)
        url = f"/api/v1/conversations/{created.json()['id']}/messages"
        assert (await h.http.post(url, json={"content": "a"}, headers=me.headers)).is_success
        on_send = {"content": "new one"}
        started = await h.http.post(
            "/api/v1/conversations/messages", json=on_send, headers=me.headers
        )
        assert started.status_code == 201, started.text
        assert (await h.http.post("/v1/chat/completions", json=chat(), headers=key)).is_success
        refused = await h.http.post(
            "/api/v1/conversations/messages", json=on_send, headers=me.headers
        )
        assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
        assert "3 per hour" in refused.json()["detail"]
        assert 60 < int(refused.headers["retry-after"]) <= 3600
        v1 = await h.http.post("/v1/chat/completions", json=chat(), headers=key)
        assert v1.status_code == 429 and v1.json()["error"]["code"] == "rate_limit_exceeded"
        assert "3 per hour" in v1.json()["error"]["message"]
        assert 60 < int(v1.headers["retry-after"]) <= 3600
        listed = await h.http.get("/api/v1/conversations", headers=me.headers)
        assert len(listed.json()["items"]) == 2  # the refused create-on-send left nothing


async def test_health_metrics_and_docs_are_never_limited(limited) -> None:
    async with limited(PARLEY_LIMITS_DEFAULT_PER_MINUTE="2") as h:
        for path in ["/health/live"] * 4 + ["/metrics"] * 4 + ["/schema/openapi.json"] * 3:
            response = await h.http.get(path)
            assert response.status_code == 200, path
            assert "ratelimit-limit" not in response.headers


async def test_limits_can_be_switched_off(limited) -> None:
    async with limited(PARLEY_LIMITS_ENABLED="false", PARLEY_LIMITS_DEFAULT_PER_MINUTE="1") as h:
        me = await register(h.http)
        for _ in range(3):
            response = await h.http.get(DASHBOARD, headers=me.headers)
            assert response.status_code == 200 and "ratelimit-limit" not in response.headers
