"""Two `parley serve` instances on one PostgreSQL database and one Redis prefix (ARCHITECTURE
"Scale-out"): a session works on both and a logout on one ends it on the other at once; a
reply streamed by A is resumed on B without gaps and cancelled from B (R8, R19)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.e2e.chat.streams import API, new_conversation, sign_up, stored_reply, stream_reply
from tests.support.backends import Backend
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pair(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    if not backend.uses_redis:
        pytest.skip("instances share sessions and streams through Redis: postgres backend")
    tmp = tmp_path_factory.mktemp("two-instance-sessions")
    env = {**backend.env, "PARLEY_FAKE_GAP_MS": "5", "PARLEY_AUTH_DEFAULT_PLAN": "unlimited"}
    with run_server(env, tmp) as first, run_server(env, tmp) as second:
        yield first, second


def test_a_session_works_on_both_and_a_logout_on_one_ends_it_on_the_other_at_once(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = (server.base_url for server in pair)
    email = "both-" + a.rsplit(":", 1)[1] + "-" + b.rsplit(":", 1)[1] + "@example.com"
    tokens = httpx.post(
        f"{a}/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery staple"},
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{b}/api/v1/auth/me", headers=auth, timeout=10).status_code == 200
    # Warm A's cache of this identity, then log out on B: A must refuse at its next request.
    assert httpx.get(f"{a}/api/v1/auth/me", headers=auth, timeout=10).status_code == 200
    assert (
        httpx.post(f"{b}/api/v1/auth/logout", json={}, headers=auth, timeout=10).status_code == 204
    )
    assert httpx.get(f"{a}/api/v1/auth/me", headers=auth, timeout=10).status_code == 401
    refreshed = httpx.post(
        f"{a}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, timeout=10
    )
    assert refreshed.status_code == 401


async def test_a_reply_streamed_by_a_is_resumed_and_cancelled_on_b_without_gaps(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    very_long = " ".join(f"w{i}" for i in range(2000))  # seconds of tokens: time to cancel
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=30) as on_a,
        httpx.AsyncClient(base_url=b.base_url, timeout=30) as on_b,
    ):
        me = await sign_up(on_a)
        conversation = await new_conversation(on_a, me)
        before = await stream_reply(on_a, me, conversation, very_long, stop_after=4)
        start = before.events[0][2]
        generation, reply_id = start["generation_id"], start["assistant_message_id"]
        after: list[tuple[str, str, Any]] = []
        url = f"{API}/{conversation}/generations/{generation}"
        headers = {**me, "Last-Event-ID": before.events[-1][0]}
        async with aconnect_sse(on_b, "GET", f"{url}/events", headers=headers) as source:
            assert source.response.status_code == 200
            async for sse in source.aiter_sse():
                after.append((sse.id, sse.event, json.loads(sse.data)))
                if len(after) == 2:
                    cancel = await on_b.post(f"{url}/cancel", headers=me)
                    assert cancel.status_code == 202
        stored = await stored_reply(on_b, me, conversation, reply_id)
    ids = [int(i) for i, _, _ in before.events + after]
    assert ids == list(range(1, len(ids) + 1))  # no gap, no duplicate across instances
    assert after[-1][1] == "done" and after[-1][2]["message"]["status"] == "cancelled"
    text = "".join(d["content"] for _, kind, d in before.events + after if kind == "delta")
    assert stored["status"] == "cancelled"
    assert stored["content"] == text
    assert 0 < len(text) < len("Echo: " + very_long)
