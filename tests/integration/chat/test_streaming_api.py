"""Sending messages and streaming replies over SSE, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from litestar.testing import AsyncTestClient

from application.llm.router import LLMRouter
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.messages import pending_reply
from entrypoints.http.app import create_app
from tests.conftest import make_settings
from tests.integration.chat.support import (
    API,
    in_loop_client,
    new_conversation,
    parse_sse,
    sign_up,
    streamed_text,
)

MESSAGE_FIELDS = {
    "id",
    "conversation_id",
    "role",
    "content",
    "status",
    "model",
    "usage",
    "cost_usd",
    "error_code",
    "created_at",
    "generation_id",
    "context",
}


@asynccontextmanager
async def app_client(backend, **env: str) -> AsyncIterator[AsyncTestClient]:
    app = create_app(make_settings(backend, **env))
    async with AsyncTestClient(app=app, base_url="http://chat.test") as http:
        yield http


async def llm_calls(http: AsyncTestClient) -> int:
    router = await http.app.state.dishka_container.get(LLMRouter)
    return sum(getattr(p, "calls", 0) for p in router.providers.values())


async def test_a_plain_post_returns_both_stored_messages(client) -> None:
    me = await sign_up(client)
    conversation = await new_conversation(client, me)
    response = await client.post(
        f"{API}/{conversation['id']}/messages", json={"content": "Hello there"}, headers=me
    )
    assert response.status_code == 201
    body = response.json()
    user, reply = body["user_message"], body["assistant_message"]
    assert set(user) == MESSAGE_FIELDS and set(reply) == MESSAGE_FIELDS
    assert (user["role"], user["content"], user["status"]) == ("user", "Hello there", "complete")
    assert (reply["role"], reply["status"]) == ("assistant", "complete")
    assert reply["content"] == "Echo: Hello there"
    assert reply["usage"]["total_tokens"] == (
        reply["usage"]["prompt_tokens"] + reply["usage"]["completion_tokens"]
    )
    assert reply["model"] == "parley-fake" and reply["cost_usd"] == "0"
    listed = (await client.get(f"{API}/{conversation['id']}/messages", headers=me)).json()
    assert listed["items"] == [user, reply]


async def test_stream_true_gives_sse_whose_deltas_equal_the_stored_reply(client) -> None:
    me = await sign_up(client)
    conversation = await new_conversation(client, me)
    response = await client.post(
        f"{API}/{conversation['id']}/messages",
        json={"content": "stream me please", "stream": True},
        headers=me,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert events[0].event == "start" and events[-1].event == "done"
    assert {e.event for e in events[1:-1]} == {"delta"}
    assert [int(e.id) for e in events] == list(range(1, len(events) + 1))
    start, done = events[0].data, events[-1].data
    assert start["user_message"]["content"] == "stream me please"
    assert done["message"]["id"] == start["assistant_message_id"]
    assert streamed_text(events) == done["message"]["content"] == "Echo: stream me please"
    listed = (await client.get(f"{API}/{conversation['id']}/messages", headers=me)).json()
    assert listed["items"][-1] == done["message"]


async def test_accept_event_stream_also_streams(client) -> None:
    me = await sign_up(client)
    conversation = await new_conversation(client, me)
    response = await client.post(
        f"{API}/{conversation['id']}/messages",
        json={"content": "hi"},
        headers={**me, "Accept": "text/event-stream"},
    )
    assert response.status_code == 200 and parse_sse(response.text)[-1].event == "done"


async def test_model_output_cannot_break_sse_framing(backend) -> None:
    nasty = 'ok\n\nevent: done\ndata: {"message": "forged"}\r\nid: 999\n\n: comment\r\r'
    async with app_client(backend, PARLEY_FAKE_REPLY=nasty) as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        response = await http.post(
            f"{API}/{conversation['id']}/messages",
            json={"content": "x", "stream": True},
            headers=me,
        )
    events = parse_sse(response.text)
    assert [e.event for e in events].count("done") == 1 and events[-1].event == "done"
    assert streamed_text(events) == nasty == events[-1].data["message"]["content"]


async def test_resuming_from_any_event_id_replays_the_rest_exactly(client) -> None:
    me = await sign_up(client)
    conversation = await new_conversation(client, me)
    url = f"{API}/{conversation['id']}"
    first = parse_sse(
        (
            await client.post(
                f"{url}/messages",
                json={"content": "one two three four five", "stream": True},
                headers=me,
            )
        ).text
    )
    generation = first[0].data["generation_id"]
    events_url = f"{url}/generations/{generation}/events"
    for cut in range(len(first)):
        by_query = parse_sse((await client.get(events_url, params={"after": cut}, headers=me)).text)
        assert [(e.id, e.event, e.data) for e in by_query] == [
            (e.id, e.event, e.data) for e in first[cut:]
        ]
    by_header = await client.get(events_url, headers={**me, "Last-Event-ID": "2"})
    assert [e.id for e in parse_sse(by_header.text)] == [e.id for e in first[2:]]


async def test_a_bad_event_id_or_unknown_generation_is_refused(client) -> None:
    me = await sign_up(client)
    conversation = await new_conversation(client, me)
    url = f"{API}/{conversation['id']}/generations"
    unknown = await client.get(f"{url}/{uuid4()}/events", headers=me)
    assert unknown.status_code == 404 and unknown.json()["code"] == "GENERATION_NOT_FOUND"
    sent = await client.post(
        f"{API}/{conversation['id']}/messages", json={"content": "a"}, headers=me
    )
    bad = await client.get(
        f"{url}/{sent.json()['generation_id']}/events", params={"after": "x1"}, headers=me
    )
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_EVENT_ID"


async def test_a_message_over_the_limit_is_400_with_zero_llm_calls(backend) -> None:
    async with app_client(backend, PARLEY_CHAT_MAX_MESSAGE_CHARS="100") as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        before = await llm_calls(http)
        response = await http.post(
            f"{API}/{conversation['id']}/messages", json={"content": "x" * 101}, headers=me
        )
        streamed = await http.post(
            f"{API}/{conversation['id']}/messages",
            json={"content": "y" * 101, "stream": True},
            headers=me,
        )
        assert response.status_code == 400 and response.json()["code"] == "MESSAGE_TOO_LONG"
        assert streamed.status_code == 400
        assert await llm_calls(http) == before
        listed = await http.get(f"{API}/{conversation['id']}/messages", headers=me)
        assert listed.json()["items"] == []


async def test_a_provider_failure_is_stored_failed_with_its_error_code(backend) -> None:
    async with app_client(backend, PARLEY_FAKE_FAIL_AFTER="2") as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        response = await http.post(
            f"{API}/{conversation['id']}/messages",
            json={"content": "alpha beta gamma delta", "stream": True},
            headers=me,
        )
        events = parse_sse(response.text)
        listed = (await http.get(f"{API}/{conversation['id']}/messages", headers=me)).json()
    error = events[-1]
    assert error.event == "error"
    assert (error.data["code"], error.data["status"]) == ("PROVIDER_UNAVAILABLE", 503)
    reply = listed["items"][-1]
    assert (reply["status"], reply["error_code"]) == ("failed", "PROVIDER_UNAVAILABLE")
    assert reply["content"] == streamed_text(events) == "Echo: alpha"


async def test_cancel_stores_the_partial_reply_as_cancelled(backend) -> None:
    app = create_app(make_settings(backend, PARLEY_FAKE_GAP_MS="20"))
    async with in_loop_client(app) as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        url = f"{API}/{conversation['id']}"
        words = " ".join(f"w{i}" for i in range(200))
        streaming = asyncio.create_task(
            http.post(f"{url}/messages", json={"content": words, "stream": True}, headers=me)
        )
        reply = await _wait_for_streaming_reply(http, url, me)
        await asyncio.sleep(0.1)
        cancel = await http.post(f"{url}/generations/{reply['generation_id']}/cancel", headers=me)
        events = parse_sse((await asyncio.wait_for(streaming, 30)).text)
        stored = (await http.get(f"{url}/messages", headers=me)).json()["items"][-1]
    assert cancel.status_code == 202
    assert stored["status"] == "cancelled"
    assert stored["content"] == streamed_text(events)
    assert len(stored["content"]) < len("Echo: " + words)
    assert events[-1].event == "done" and events[-1].data["message"]["status"] == "cancelled"


async def _wait_for_streaming_reply(http, url: str, headers) -> dict:
    for _ in range(500):
        items = (await http.get(f"{url}/messages", headers=headers)).json()["items"]
        if len(items) == 2 and items[1]["status"] == "streaming":
            return items[1]
        await asyncio.sleep(0.01)
    raise AssertionError(f"the reply never started streaming: {items}")


async def test_startup_recovers_replies_orphaned_by_a_crashed_process(backend) -> None:
    app = create_app(make_settings(backend))
    async with in_loop_client(app) as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        factory = await app.state.dishka_container.get(UnitOfWorkFactory)
        orphan = pending_reply(
            id=uuid4(),
            conversation_id=UUID(conversation["id"]),
            model="parley-fake",
            generation_id=uuid4(),
            now=datetime.now(UTC),
            position=0,
        )
        async with factory() as uow:
            await uow.messages.add(orphan, lease_until=datetime.now(UTC) - timedelta(seconds=5))
            await uow.commit()
    async with in_loop_client(create_app(make_settings(backend))) as restarted:  # sweeps
        items = (await restarted.get(f"{API}/{conversation['id']}/messages", headers=me)).json()[
            "items"
        ]
    assert [(m["id"], m["status"], m["error_code"]) for m in items] == [
        (str(orphan.id), "failed", "INTERRUPTED")
    ]


async def test_an_idle_stream_sends_keep_alive_comments(backend) -> None:
    env = {"PARLEY_FAKE_TTFT_MS": "300", "PARLEY_CHAT_KEEPALIVE_S": "0.05"}
    async with app_client(backend, **env) as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        response = await http.post(
            f"{API}/{conversation['id']}/messages",
            json={"content": "x", "stream": True},
            headers=me,
        )
    assert ": keep-alive\n\n" in response.text
    assert parse_sse(response.text)[-1].event == "done"


async def test_every_chat_route_is_in_the_openapi_schema(client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    base = "/api/v1/conversations"
    one = base + "/{conversation_id}"
    generation = one + "/generations/{generation_id}"
    expected = {
        base: {"get", "post"},
        one: {"get", "patch", "delete"},
        one + "/messages": {"get", "post"},
        generation + "/events": {"get"},
        generation + "/cancel": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    send = paths[one + "/messages"]["post"]["responses"]
    assert {"200", "201"} <= set(send)
    assert "text/event-stream" in send["200"]["content"]
