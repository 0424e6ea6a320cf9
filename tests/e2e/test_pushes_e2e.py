"""Pushes over WebSocket against real `parley serve` processes: ``message.completed`` reaches
the user's other sockets; with PostgreSQL + Redis, two instances share one (private) Redis,
a notification made by another process reaches sockets on both, other users see none of
it, and pushes resume by themselves after Redis restarts (R1, R30)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.e2e.ws_support import Frame, chat, next_frame, open_socket
from tests.integration.usage.private_redis import PrivateRedis, private_redis
from tests.support.backends import Backend
from tests.support.cli import run_cli
from tests.support.identity import Account, register
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e

# No credential sweep within a test's lifetime: a socket that closes on logout was told by
# the pushed revocation, not found by polling.
ENV = {
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    "PARLEY_LIMITS_CHAT_PER_MINUTE": "600",
    "PARLEY_WS_RECHECK_S": "3600",
}


@dataclass
class Deployment:
    a: RunningServer
    b: RunningServer
    """The same server as ``a`` on the embedded backend (one process holds every socket)."""
    env: dict[str, str]
    redis: PrivateRedis | None


@pytest.fixture(scope="module")
def deployment(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp(f"pushes-{backend.name}")
    if not backend.uses_redis:
        env = {**backend.env, **ENV}
        with run_server(env, tmp) as only:
            yield Deployment(only, only, env, None)
        return
    with private_redis(tmp) as redis:
        env = {**backend.env, **ENV, "PARLEY_REDIS_URL": redis.url,
               "PARLEY_REDIS_KEY_PREFIX": f"pushes-{uuid.uuid4().hex[:8]}:"}  # fmt: skip
        with run_server(env, tmp) as a, run_server(env, tmp) as b:
            yield Deployment(a, b, env, redis)


def two_instances(deployment: Deployment) -> Deployment:
    if deployment.redis is None:
        pytest.skip("crossing processes needs Redis: the postgres backend only")
    return deployment


async def sign_up(server: RunningServer, tag: str) -> Account:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as http:
        return await register(http, tag)


def notify(deployment: Deployment, account: Account, title: str) -> str:
    """A notification made by another process (the CLI) through NotifyUser."""
    made = run_cli("notify", "--user", account.email, "--title", title,
                   "--data", '{"job_id": "j-1"}', env=deployment.env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


async def rest_turn(server: RunningServer, account: Account) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as http:
        created = await http.post("/api/v1/conversations", json={}, headers=account.headers)
        url = f"/api/v1/conversations/{created.json()['id']}/messages"
        sent = await http.post(url, json={"content": "from rest"}, headers=account.headers)
    assert sent.status_code == 201, sent.text
    reply: dict[str, Any] = sent.json()["assistant_message"]
    return reply


async def pushed(ws: ClientConnection) -> Frame:
    frame = await next_frame(ws)
    assert frame["type"] in ("notification", "message.completed"), frame
    return frame


async def test_a_finished_reply_reaches_the_users_other_sockets_but_not_its_own(
    deployment: Deployment,
) -> None:
    alice = await sign_up(deployment.a, "alice")
    async with (
        await open_socket(deployment.a, alice.access_token) as starter,
        await open_socket(deployment.b, alice.access_token) as other,
    ):
        frames = await chat(starter, "r1", "hello there")
        done = frames[-1]
        assert done["type"] == "done"
        completed = await pushed(other)
        assert completed == {"type": "message.completed", "message": done["message"]}

        reply = await rest_turn(deployment.b, alice)  # a REST turn reaches every socket
        for ws in (starter, other):  # the starter's first push is this one, not its own
            frame = await pushed(ws)
            assert frame["type"] == "message.completed"
            assert frame["message"]["id"] == reply["id"]
            assert frame["message"]["content"] == reply["content"]
            assert frame["message"]["status"] == "complete"


async def test_a_notification_reaches_the_owners_sockets_on_both_instances_only(
    deployment: Deployment,
) -> None:
    two_instances(deployment)
    alice, bob = await sign_up(deployment.a, "alice"), await sign_up(deployment.b, "bob")
    async with (
        await open_socket(deployment.a, alice.access_token) as on_a,
        await open_socket(deployment.b, alice.access_token) as on_b,
        await open_socket(deployment.b, bob.access_token) as bobs,
    ):
        notification_id = notify(deployment, alice, "Report ready")
        for ws in (on_a, on_b):
            frame = await pushed(ws)
            assert frame["type"] == "notification"
            note = frame["notification"]
            assert (note["id"], note["title"], note["read"]) == (
                notification_id,
                "Report ready",
                False,
            )
            assert note["data"] == {"job_id": "j-1"}
        own = notify(deployment, bob, "Yours")
        assert (await pushed(bobs))["notification"]["id"] == own  # not alice's before it

    async with httpx.AsyncClient(base_url=deployment.b.base_url, timeout=15) as http:
        listed = (await http.get("/api/v1/notifications", headers=alice.headers)).json()
        assert [n["id"] for n in listed["items"]] == [notification_id]
        url = f"/api/v1/notifications/{notification_id}"
        assert (await http.get(url, headers=bob.headers)).status_code == 404
        marked = await http.post(
            "/api/v1/notifications/mark-read", json={"ids": [notification_id]}, headers=bob.headers
        )
        assert marked.status_code == 204
        assert (await http.get(url, headers=alice.headers)).json()["read"] is False


async def test_logout_closes_that_sessions_sockets_on_every_instance_at_once(
    deployment: Deployment,
) -> None:
    alice = await sign_up(deployment.a, "alice")
    async with httpx.AsyncClient(base_url=deployment.a.base_url, timeout=15) as http:
        body = {"email": alice.email, "password": alice.password}
        other_session = (await http.post("/api/v1/auth/login", json=body)).json()
        async with (
            await open_socket(deployment.b, alice.access_token) as ending,
            await open_socket(deployment.a, other_session["access_token"]) as staying,
        ):
            out = await http.post("/api/v1/auth/logout", json={}, headers=alice.headers)
            assert out.status_code == 204
            with pytest.raises(ConnectionClosed) as closed:
                await next_frame(ending)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "TOKEN_REVOKED")
            await staying.send('{"type": "ping"}')
            assert (await next_frame(staying))["type"] == "pong"


async def test_pushes_resume_by_themselves_after_redis_restarts(
    deployment: Deployment, tmp_path: Path
) -> None:
    redis = two_instances(deployment).redis
    assert redis is not None
    alice = await sign_up(deployment.a, "alice")
    async with (
        await open_socket(deployment.a, alice.access_token) as on_a,
        await open_socket(deployment.b, alice.access_token) as on_b,
    ):
        redis.stop()
        # Stored even though it cannot be pushed: the list is the resync path (R30).
        offline = notify(deployment, alice, "While Redis was down")
        redis.start()

        # Nothing is resubscribed by hand: replies finished on A reach B once it is back.
        # (A push published while B's listener is still reconnecting is lost, by design.)
        await eventually_pushed(deployment.a, alice, on_b)
        online = notify(deployment, alice, "After the restart")
        for ws in (on_a, on_b):
            assert (await skip_to_notification(ws))["notification"]["id"] == online

    async with httpx.AsyncClient(base_url=deployment.b.base_url, timeout=15) as http:
        for _ in range(20):  # a pooled connection Redis dropped may still fail once
            response = await http.get("/api/v1/notifications", headers=alice.headers)
            if response.status_code == 200:
                break
            await asyncio.sleep(0.1)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [n["id"] for n in listed["items"]] == [online, offline]
    assert listed["unread_count"] == 2


async def eventually_pushed(server: RunningServer, account: Account, ws: ClientConnection) -> None:
    for _ in range(40):
        try:
            reply = await rest_turn(server, account)
        except (AssertionError, KeyError, httpx.HTTPError):
            await asyncio.sleep(0.25)  # the instance's own Redis pool is reconnecting
            continue
        try:
            frame = await asyncio.wait_for(ws.recv(), 1.0)
        except TimeoutError:
            continue
        assert '"message.completed"' in str(frame) and reply["id"] in str(frame)
        return
    raise AssertionError("pushes never resumed after the Redis restart")


async def skip_to_notification(ws: ClientConnection) -> Frame:
    """Late ``message.completed`` frames of the probing turns may come first."""
    while True:
        frame = await pushed(ws)
        if frame["type"] == "notification":
            return frame
