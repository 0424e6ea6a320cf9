"""Hostile input is a 400 with a code, never a 500, on both backends (R13, R22): a NUL
character (PostgreSQL cannot store U+0000 in text) in every text a client can send,
JSON nested far deeper than any real body, and a WebSocket chat carrying NUL."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.ws_support import next_frame, open_socket, send
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
NUL = "before\x00after"
PASSWORD = "correct horse battery staple"


def sign_up(server: RunningServer) -> str:
    reply = httpx.post(
        f"{server.base_url}/api/v1/auth/register",
        json={"email": f"nul-{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["access_token"])


def assert_refused(reply: httpx.Response) -> None:
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["code"] == "VALIDATION_ERROR"


def test_a_nul_character_in_any_text_is_a_400_not_a_500(server: RunningServer) -> None:
    token = sign_up(server)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=auth, timeout=10) as http:
        conversation = http.post("/api/v1/conversations", json={"title": "ok"}).json()
        url = f"/api/v1/conversations/{conversation['id']}"
        assert_refused(http.post("/api/v1/conversations", json={"title": NUL}))
        assert_refused(http.post("/api/v1/conversations", json={"system_prompt": NUL}))
        assert_refused(http.patch(url, json={"title": NUL}))
        assert_refused(http.patch(url, json={"system_prompt": NUL}))
        assert_refused(http.post(f"{url}/messages", json={"content": NUL}))
        assert_refused(http.get("/api/v1/conversations", params={"q": NUL}))
        assert_refused(http.get("/api/v1/search", params={"q": NUL, "mode": "text"}))
        assert_refused(http.get("/api/v1/search/similar-prompts", params={"q": NUL}))
        assert_refused(http.patch("/api/v1/auth/me", json={"display_name": NUL}))
        assert_refused(http.post("/api/v1/api-keys", json={"name": NUL}))
        # Nothing half-stored: the conversation still has no messages and its old title.
        assert http.get(f"{url}/messages").json()["items"] == []
        assert http.get(url).json()["title"] == "ok"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/conversations", "/api/v1/auth/login", "/v1/chat/completions", "/api/v1/api-keys"],
)
def test_json_nested_fifty_thousand_levels_deep_is_a_400(server: RunningServer, path: str) -> None:
    token = sign_up(server)
    body = '{"title": ' + "[" * 50_000 + "]" * 50_000 + "}"
    reply = httpx.post(
        f"{server.base_url}{path}",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )
    if path.startswith("/v1/"):  # the OpenAI-compatible routes answer in OpenAI's shape
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["type"] == "invalid_request_error"
    else:
        assert_refused(reply)


async def test_a_websocket_chat_with_nul_gets_an_error_frame_and_the_socket_stays(
    server: RunningServer,
) -> None:
    ws = await open_socket(server, sign_up(server))
    try:
        await send(ws, type="chat", request_id="r1", content=NUL)
        error = await next_frame(ws)
        assert error["type"] == "error", error
        assert error["request_id"] == "r1"
        await send(ws, type="ping")
        assert (await next_frame(ws))["type"] == "pong"
    finally:
        await ws.close()
