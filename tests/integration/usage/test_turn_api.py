"""One turn over HTTP, on both backends: create-on-send in one transaction (a refused turn
leaves no conversation), and what chat and /v1 responses publish about themselves
(RateLimit-* from the use case's chat limit, X-Parley-Overhead-Ms)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.chat.support import parse_sse, streamed_text
from tests.integration.usage.harness import Harness, chat, harness
from tests.support.backends import Backend
from tests.support.identity import register
from tests.support.mock_openai import MockUpstream

CONVERSATIONS = "/api/v1/conversations"
START = "/api/v1/conversations/messages"


@pytest.fixture(scope="module")
async def h(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    async with harness(
        backend,
        mock,
        tmp_path_factory.mktemp("turns"),
        PARLEY_LIMITS_CHAT_PER_MINUTE="7",
        # These tests count upstream calls per turn; a background title is another call.
        PARLEY_JOBS_AUTO_TITLES="false",
    ) as made:
        yield made


async def test_a_first_message_creates_its_conversation_in_the_same_call(h: Harness) -> None:
    me = await register(h.http)
    sent = await h.http.post(START, json={"content": "Plan a trip"}, headers=me.headers)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    conversation = body["conversation"]
    assert conversation["title"] == "Plan a trip" and conversation["message_count"] == 2
    assert body["assistant_message"]["status"] == "complete"
    listed = (await h.http.get(CONVERSATIONS, headers=me.headers)).json()["items"]
    assert [c["id"] for c in listed] == [conversation["id"]]
    again = await h.http.post(
        START,
        json={"content": "and back", "conversation_id": conversation["id"]},
        headers=me.headers,
    )
    assert again.status_code == 201 and again.json()["user_message"]["content"] == "and back"
    assert again.json()["conversation"]["message_count"] == 4


async def test_a_refused_first_message_leaves_no_conversation(h: Harness) -> None:
    me = await register(h.http)
    await h.set_plan(me, "tiny")  # two messages a month
    for turn in ("one", "two"):
        assert (await h.http.post(START, json={"content": turn}, headers=me.headers)).is_success
    calls = h.upstream_calls()
    refused = await h.http.post(START, json={"content": "three"}, headers=me.headers)
    assert refused.status_code == 429 and refused.json()["code"] == "QUOTA_EXCEEDED"
    empty = await h.http.post(START, json={"content": "  "}, headers=me.headers)
    assert empty.status_code == 400 and empty.json()["code"] == "MESSAGE_EMPTY"
    listed = (await h.http.get(CONVERSATIONS, headers=me.headers)).json()["items"]
    assert len(listed) == 2 and h.upstream_calls() == calls


async def test_a_first_message_can_stream_and_names_its_conversation(h: Harness) -> None:
    me = await register(h.http)
    sent = await h.http.post(START, json={"content": "hi", "stream": True}, headers=me.headers)
    assert sent.status_code == 200
    events = parse_sse(sent.text)
    start = events[0]
    assert start.event == "start" and events[-1].event == "done"
    stored = await h.http.get(
        f"{CONVERSATIONS}/{start.data['conversation_id']}/messages", headers=me.headers
    )
    reply = stored.json()["items"][-1]
    assert reply["content"] == streamed_text(events) and reply["status"] == "complete"


async def test_chat_and_v1_responses_publish_overhead_and_the_shared_chat_limit(
    h: Harness,
) -> None:
    me = await register(h.http)
    key = await h.api_key(me)
    turn = await h.http.post(START, json={"content": "hello"}, headers=me.headers)
    completion = await h.http.post("/v1/chat/completions", json=chat(), headers=key)
    streamed = await h.http.post(
        START, json={"content": "hello", "stream": True}, headers=me.headers
    )
    for response in (turn, completion, streamed):
        assert response.is_success, response.text
        assert float(response.headers["x-parley-overhead-ms"]) >= 0
        assert response.headers["ratelimit-limit"] == "7"
    remaining = [int(r.headers["ratelimit-remaining"]) for r in (turn, completion, streamed)]
    assert remaining == [6, 5, 4]
    listed = await h.http.get(CONVERSATIONS, headers=me.headers)
    assert "x-parley-overhead-ms" not in listed.headers


async def test_a_non_stream_send_answers_its_time_and_whether_the_cache_served_it(
    h: Harness,
) -> None:
    me = await register(h.http)
    plain = await h.http.post(START, json={"content": "What is 2+2?"}, headers=me.headers)
    assert plain.status_code == 201, plain.text
    assert plain.json()["cached"] is False and "x-parley-cache" not in plain.headers
    assert isinstance(plain.json()["response_time_ms"], int)
    assert plain.json()["response_time_ms"] >= 0
    opted = {**me.headers, "X-Parley-Cache": "on"}
    ask = {"content": "Cache this turn", "temperature": 0}
    calls = h.upstream_calls()
    miss = await h.http.post(START, json=ask, headers=opted)
    hit = await h.http.post(START, json=ask, headers=opted)
    assert (miss.headers["x-parley-cache"], hit.headers["x-parley-cache"]) == ("miss", "hit")
    assert (miss.json()["cached"], hit.json()["cached"]) == (False, True)
    assert h.upstream_calls() == calls + 1  # the replay asked no model
    replay = hit.json()["assistant_message"]
    assert replay["content"] == miss.json()["assistant_message"]["content"] != ""
    conversation = hit.json()["conversation"]["id"]
    listed = await h.http.get(f"{CONVERSATIONS}/{conversation}/messages", headers=me.headers)
    [_, stored] = listed.json()["items"]
    assert stored["id"] == replay["id"] and stored["status"] == "complete"
    assert stored["content"] == replay["content"]
    # Later in that conversation the history is part of the prompt: not the same request.
    follow = await h.http.post(f"{CONVERSATIONS}/{conversation}/messages", json=ask, headers=opted)
    assert follow.json()["cached"] is False and follow.headers["x-parley-cache"] == "miss"
    # Another user never gets this user's replay.
    other = await register(h.http)
    theirs = await h.http.post(START, json=ask, headers={**other.headers, "X-Parley-Cache": "on"})
    assert theirs.json()["cached"] is False
    assert h.upstream_calls() == calls + 3
