"""Chat over WebSocket against the real `parley serve` process, with the `websockets` client,
on both backends (SQLite + in-process adapters, PostgreSQL + Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.ws_support import (
    WS_ENV,
    chat,
    next_frame,
    open_socket,
    send,
    stream,
    streams,
    text_of,
    words,
    ws_url,
)
from tests.support.backends import Backend
from tests.support.identity import Account, bearer, register
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ws_server(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    env = {**backend.env, **WS_ENV}
    with run_server(env, tmp_path_factory.mktemp(f"ws-{backend.name}")) as running:
        yield running


@pytest.fixture
async def http(ws_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ws_server.base_url, timeout=15) as client:
        yield client


@pytest.fixture
async def alice(http: httpx.AsyncClient) -> Account:
    return await register(http, "alice")


async def stored_messages(http: httpx.AsyncClient, account: Account, conversation_id: str):
    response = await http.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=account.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def closed_with(ws) -> tuple[int, str]:
    """Read until the server closes the socket; its close code and reason."""
    try:
        while True:
            await next_frame(ws)
    except ConnectionClosed as closed:
        received = closed.rcvd
    assert received is not None
    return received.code, received.reason


# --- handshake ---------------------------------------------------------------------------


async def test_a_valid_token_opens_the_socket_and_it_answers_ping_with_pong(
    ws_server: RunningServer, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        await send(ws, type="ping", request_id="p1")
        pong = await next_frame(ws)
    assert pong["type"] == "pong" and pong["request_id"] == "p1"
    assert pong["timestamp"].endswith("Z")


async def test_the_first_frame_can_carry_the_token_instead_of_the_url(
    ws_server: RunningServer, alice: Account
) -> None:
    async with connect(ws_url(ws_server)) as ws:
        await send(ws, type="auth", token=alice.access_token)
        ready = await next_frame(ws)
    assert ready == {"type": "ready", "user_id": alice.id, "expires_at": ready["expires_at"]}


async def test_an_api_key_authenticates_a_socket(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    created = await http.post("/api/v1/api-keys", json={"name": "ws"}, headers=alice.headers)
    assert created.status_code == 201, created.text
    async with await open_socket(ws_server, created.json()["key"]) as ws:
        await send(ws, type="ping")
        assert (await next_frame(ws))["type"] == "pong"


async def test_a_bad_token_closes_the_socket_with_4401(ws_server: RunningServer) -> None:
    async with connect(ws_url(ws_server, "not-a-token")) as ws:
        assert await closed_with(ws) == (4401, "TOKEN_INVALID")


async def test_no_token_and_a_first_frame_that_is_not_auth_closes_with_4401(
    ws_server: RunningServer,
) -> None:
    async with connect(ws_url(ws_server)) as ws:
        await send(ws, type="chat", request_id="r", content="hi")
        assert (await closed_with(ws))[0] == 4401


async def test_a_revoked_token_is_refused_at_the_handshake(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    logout = await http.post("/api/v1/auth/logout", json={}, headers=alice.headers)
    assert logout.status_code == 204
    async with connect(ws_url(ws_server, alice.access_token)) as ws:
        assert await closed_with(ws) == (4401, "TOKEN_REVOKED")


async def test_a_foreign_origin_is_refused_before_the_upgrade(
    ws_server: RunningServer, alice: Account
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(ws_url(ws_server, alice.access_token), origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403


async def test_the_servers_own_origin_is_allowed(ws_server: RunningServer, alice: Account) -> None:
    own = f"http://127.0.0.1:{ws_server.port}"
    async with await open_socket(ws_server, alice.access_token, origin=own) as ws:
        await send(ws, type="ping")
        assert (await next_frame(ws))["type"] == "pong"


async def test_logout_closes_an_open_socket_soon_with_4401(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        logout = await http.post("/api/v1/auth/logout", json={}, headers=alice.headers)
        assert logout.status_code == 204
        assert await closed_with(ws) == (4401, "TOKEN_REVOKED")


# --- chat ------------------------------------------------------------------------------


async def test_chat_streams_deltas_whose_concatenation_is_the_stored_reply(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        frames = await chat(ws, "r1", "tell me something")
    ack, *deltas, done = frames
    assert ack["type"] == "ack" and ack["user_message"]["content"] == "tell me something"
    assert len(deltas) > 1 and all(f["type"] == "delta" for f in deltas)
    assert done["type"] == "done" and done["message"]["status"] == "complete"
    stored = await stored_messages(http, alice, ack["conversation_id"])
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["content"] == text_of(frames) == done["message"]["content"]
    assert stored[1]["id"] == ack["assistant_message_id"]


async def test_chat_continues_an_existing_conversation(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    created = await http.post("/api/v1/conversations", json={}, headers=alice.headers)
    conversation_id = created.json()["id"]
    async with await open_socket(ws_server, alice.access_token) as ws:
        await chat(ws, "a", "first", conversation_id=conversation_id)
        frames = await chat(ws, "b", "second", conversation_id=conversation_id)
    assert frames[0]["conversation_id"] == conversation_id
    stored = await stored_messages(http, alice, conversation_id)
    assert [m["content"] for m in stored] == ["first", "Echo: first", "second", "Echo: second"]


async def test_chat_in_another_users_conversation_is_not_found(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    bob = await register(http, "bob")
    created = await http.post("/api/v1/conversations", json={}, headers=alice.headers)
    async with await open_socket(ws_server, bob.access_token) as ws:
        frames = await chat(ws, "x", "hi", conversation_id=created.json()["id"])
    assert [(f["type"], f["code"]) for f in frames] == [("error", "CONVERSATION_NOT_FOUND")]
    assert len(await stored_messages(http, alice, created.json()["id"])) == 0


async def test_twenty_requests_stream_at_once_on_one_socket(
    ws_server: RunningServer, alice: Account
) -> None:
    ids = {f"r{i}" for i in range(20)}
    async with await open_socket(ws_server, alice.access_token) as ws:
        for request_id in sorted(ids):
            await send(ws, type="chat", request_id=request_id, content=f"{request_id} {words(5)}")
        frames = await streams(ws, ids)
    for request_id in ids:
        assert frames[request_id][-1]["type"] == "done", frames[request_id][-1]
        assert text_of(frames[request_id]) == f"Echo: {request_id} {words(5)}"
    assert len({frames[r][0]["generation_id"] for r in ids}) == 20


async def test_twenty_requests_stream_at_once_across_several_sockets(
    ws_server: RunningServer, alice: Account
) -> None:
    async def four_sockets_worth(n: int) -> list[str]:
        async with await open_socket(ws_server, alice.access_token) as ws:
            ids = {f"s{n}-{i}" for i in range(5)}
            for request_id in sorted(ids):
                await send(ws, type="chat", request_id=request_id, content=request_id)
            frames = await streams(ws, ids)
        return [text_of(frames[r]) for r in sorted(ids)]

    texts = await asyncio.gather(*(four_sockets_worth(n) for n in range(4)))
    assert texts == [[f"Echo: s{n}-{i}" for i in range(5)] for n in range(4)]


async def test_cancel_stops_the_reply_and_stores_what_was_streamed_as_cancelled(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        await send(ws, type="chat", request_id="long", content=words(400))
        ack, first = await next_frame(ws), await next_frame(ws)
        assert first["type"] == "delta"
        await send(ws, type="cancel", request_id="long")
        rest = await stream(ws, "long")
    done = rest[-1]
    assert done["type"] == "done" and done["message"]["status"] == "cancelled"
    streamed = text_of([first, *rest])
    assert len(streamed) < len("Echo: " + words(400))
    stored = await stored_messages(http, alice, ack["conversation_id"])
    assert stored[1]["status"] == "cancelled" and stored[1]["content"] == streamed


async def test_cancelling_an_unknown_request_is_an_error_frame(
    ws_server: RunningServer, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        await send(ws, type="cancel", request_id="nope")
        error = await next_frame(ws)
    assert (error["type"], error["code"], error["request_id"]) == (
        "error",
        "REQUEST_NOT_FOUND",
        "nope",
    )


async def test_resume_after_reconnect_continues_without_gaps_or_duplicates(
    ws_server: RunningServer, alice: Account
) -> None:
    content = words(120)
    async with await open_socket(ws_server, alice.access_token) as first:
        await send(first, type="chat", request_id="r", content=content)
        before = [await next_frame(first) for _ in range(6)]  # ack + 5 deltas, then drop
    generation_id, last_id = before[0]["generation_id"], before[-1]["event_id"]
    async with await open_socket(ws_server, alice.access_token) as second:
        await send(second, type="resume", generation_id=generation_id, after=last_id)
        after = await stream(second, generation_id)
    ids = [int(f["event_id"]) for f in before + after]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert text_of(before + after) == "Echo: " + content == after[-1]["message"]["content"]


async def test_resume_from_the_start_replays_the_ack_and_every_delta(
    ws_server: RunningServer, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        original = await chat(ws, "r", "replay me")
        await send(
            ws, type="resume", generation_id=original[0]["generation_id"], request_id="again"
        )
        replay = await stream(ws, "again")
    assert [f["type"] for f in replay] == [f["type"] for f in original]
    assert text_of(replay) == text_of(original)


async def test_another_user_cannot_resume_a_generation(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    bob = await register(http, "bob")
    async with await open_socket(ws_server, alice.access_token) as ws:
        generation_id = (await chat(ws, "r", "private"))[0]["generation_id"]
    async with await open_socket(ws_server, bob.access_token) as ws:
        await send(ws, type="resume", generation_id=generation_id)
        error = await next_frame(ws)
    assert error["type"] == "error" and error["code"] == "GENERATION_NOT_FOUND"
    assert "private" not in str(error)


async def test_a_disconnect_mid_stream_does_not_stop_the_reply(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    content = words(60)
    async with await open_socket(ws_server, alice.access_token) as ws:
        await send(ws, type="chat", request_id="r", content=content)
        ack = await next_frame(ws)
        await next_frame(ws)
    for _ in range(100):  # bounded wait for the reply to finish on its own
        stored = await stored_messages(http, alice, ack["conversation_id"])
        if stored[1]["status"] != "streaming":
            break
        await asyncio.sleep(0.1)
    assert stored[1]["status"] == "complete"
    assert stored[1]["content"] == "Echo: " + content


# --- bad frames and limits ---------------------------------------------------------------


async def test_bad_frames_get_error_frames_and_the_socket_stays_usable(
    ws_server: RunningServer, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        await ws.send("{not json")
        await send(ws, request_id="m")
        await send(ws, type="shout", request_id="u")
        await send(ws, type="chat", request_id="v", content=42)
        errors = [await next_frame(ws) for _ in range(4)]
        reply = await chat(ws, "ok", "still here")
    assert [e["code"] for e in errors] == [
        "INVALID_JSON",
        "MISSING_TYPE",
        "UNKNOWN_TYPE",
        "VALIDATION_ERROR",
    ]
    assert [e.get("request_id") for e in errors] == [None, "m", "u", "v"]
    assert text_of(reply) == "Echo: still here"


async def test_a_duplicate_request_id_while_streaming_is_refused(
    ws_server: RunningServer, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        await send(ws, type="chat", request_id="same", content=words(100))
        await send(ws, type="chat", request_id="same", content="again")
        frames = [await next_frame(ws)]
        while frames[-1]["type"] != "done":
            frames.append(await next_frame(ws))
    errors = [f for f in frames if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["DUPLICATE_REQUEST_ID"]
    assert frames[-1]["type"] == "done"


async def test_an_oversized_frame_closes_the_socket_with_1009(
    ws_server: RunningServer, alice: Account
) -> None:
    limit = int(WS_ENV["PARLEY_WS_MAX_FRAME_BYTES"])
    async with await open_socket(ws_server, alice.access_token) as ws:
        await send(ws, type="chat", request_id="big", content="x" * (limit + 1))
        code, _ = await closed_with(ws)
    assert code == 1009


async def test_frames_beyond_the_rate_limit_are_refused_with_rate_limited(
    ws_server: RunningServer, alice: Account
) -> None:
    budget = int(WS_ENV["PARLEY_WS_MESSAGES_PER_MINUTE"])
    async with await open_socket(ws_server, alice.access_token) as ws:
        for i in range(budget + 5):
            await send(ws, type="ping", request_id=i)
        answers = [await next_frame(ws) for _ in range(budget + 5)]
    assert sum(a["type"] == "pong" for a in answers) == budget
    refused = [a for a in answers if a["type"] == "error"]
    assert len(refused) == 5 and all(a["code"] == "RATE_LIMITED" for a in refused)
    assert refused[0]["retry_after_s"] > 0


async def test_chat_frames_share_the_per_user_chat_limit_with_rest(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    budget = int(WS_ENV["PARLEY_LIMITS_CHAT_PER_MINUTE"])
    created = await http.post("/api/v1/conversations", json={}, headers=alice.headers)
    path = f"/api/v1/conversations/{created.json()['id']}/messages"
    sent = await asyncio.gather(
        *(http.post(path, json={"content": "hi"}, headers=alice.headers) for _ in range(budget))
    )
    assert [r.status_code for r in sent] == [201] * budget
    async with await open_socket(ws_server, alice.access_token) as ws:
        frames = await chat(ws, "over", "one more")
    assert [(f["type"], f["code"]) for f in frames] == [("error", "RATE_LIMITED")]
    assert frames[0]["retry_after_s"] > 0


async def test_an_empty_message_is_refused_without_leaving_a_conversation_behind(
    ws_server: RunningServer, http: httpx.AsyncClient, alice: Account
) -> None:
    async with await open_socket(ws_server, alice.access_token) as ws:
        frames = await chat(ws, "r", "   ")
    assert frames[0]["code"] == "MESSAGE_EMPTY"
    listed = await http.get("/api/v1/conversations", headers=bearer(alice.access_token))
    assert listed.json()["items"] == []
