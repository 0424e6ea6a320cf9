"""`parley chat` as a user runs it: a real subprocess fed through stdin, on both backends,
with the API (the real server on the same database) seeing the very same conversations."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.cli import run_cli
from tests.support.identity import PASSWORD
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e

CONVERSATION_LINE = re.compile(r"conversation ([0-9a-f-]{36})")


@pytest.fixture
def account(server: RunningServer) -> tuple[str, dict[str, str]]:
    """A fresh account (email, API auth headers), signed up through the API: the CLI and
    the API share one database, and a subprocess per sign-up would make this suite slow."""
    address = f"cli-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": address, "password": PASSWORD}
    signed_up = httpx.post(f"{server.base_url}/api/v1/auth/register", json=body, timeout=15)
    assert signed_up.status_code == 201, signed_up.text
    return address, {"Authorization": f"Bearer {signed_up.json()['access_token']}"}


def api(server: RunningServer, headers: dict[str, str], method: str, path: str, **kw: Any) -> Any:
    response = httpx.request(method, f"{server.base_url}{path}", headers=headers, timeout=15, **kw)
    assert response.status_code < 300, response.text
    return response.json()


def test_a_piped_chat_prints_each_reply_and_the_api_shows_the_same_conversations(
    backend: Backend, server: RunningServer, account: tuple[str, dict[str, str]]
) -> None:
    email, headers = account
    script = "hello there\nhow are you\n/new\nsomething else\n/quit\nnever read\n"
    result = run_cli("chat", "--user", email, env=backend.env, input_text=script)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: hello there\nEcho: how are you\nEcho: something else\n"
    started = CONVERSATION_LINE.findall(result.stderr)
    assert len(started) == 2
    messages = api(server, headers, "GET", f"/api/v1/conversations/{started[0]}/messages")
    assert [(m["role"], m["content"], m["status"]) for m in messages["items"]] == [
        ("user", "hello there", "complete"),
        ("assistant", "Echo: hello there", "complete"),
        ("user", "how are you", "complete"),
        ("assistant", "Echo: how are you", "complete"),
    ]
    listed = api(server, headers, "GET", "/api/v1/conversations")
    assert {c["id"] for c in listed["items"]} == set(started)


def test_a_conversation_from_the_api_can_be_continued_and_listed(
    backend: Backend, server: RunningServer, account: tuple[str, dict[str, str]]
) -> None:
    email, headers = account
    # Titled, so the background title job leaves it alone and the listing is predictable.
    conversation = api(
        server, headers, "POST", "/api/v1/conversations", json={"title": "remember me"}
    )
    path = f"/api/v1/conversations/{conversation['id']}/messages"
    api(server, headers, "POST", path, json={"content": "remember me"})

    again = run_cli(
        "chat",
        "--user",
        email,
        "--conversation",
        conversation["id"],
        "--model",
        "parley-fake",
        env=backend.env,
        input_text="and again\n",
    )
    listed = run_cli("chat", "--user", email, "--list", env=backend.env)

    assert again.returncode == 0, again.stderr
    assert again.stdout == "Echo: and again\n"
    assert "continuing 'remember me' (2 messages)" in again.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [(r[0], r[1], r[3]) for r in rows] == [(conversation["id"], "remember me", "4")]


def test_a_refused_message_is_reported_and_the_session_goes_on(
    backend: Backend, account: tuple[str, dict[str, str]]
) -> None:
    env = {**backend.env, "PARLEY_CHAT_MAX_MESSAGE_CHARS": "20"}
    script = "this line is far too long for the limit\nshort one\n"
    result = run_cli("chat", "--user", account[0], env=env, input_text=script)

    assert result.returncode == 0, result.stderr
    assert "MESSAGE_TOO_LONG" in result.stderr
    assert result.stdout == "Echo: short one\n"


def test_someone_elses_conversation_cannot_be_continued(
    backend: Backend, server: RunningServer, account: tuple[str, dict[str, str]]
) -> None:
    _, owner_headers = account
    conversation = api(server, owner_headers, "POST", "/api/v1/conversations", json={})
    other = f"cli-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": other, "password": PASSWORD}
    assert httpx.post(f"{server.base_url}/api/v1/auth/register", json=body).status_code == 201

    result = run_cli(
        "chat",
        "--user",
        other,
        "--conversation",
        conversation["id"],
        env=backend.env,
        input_text="x\n",
    )

    assert result.returncode != 0
    assert "CONVERSATION_NOT_FOUND" in result.stderr
    assert result.stdout == ""


def test_an_unknown_user_is_an_error_not_a_chat(backend: Backend) -> None:
    result = run_cli("chat", "--user", "nobody@example.com", env=backend.env, input_text="hi\n")
    assert result.returncode != 0
    assert "USER_NOT_FOUND" in result.stderr
