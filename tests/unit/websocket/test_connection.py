"""A socket closes itself when its token expires (R9), and stops sending once gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from litestar.exceptions import WebSocketDisconnect

from application.identity.principal import Principal
from entrypoints.http.websocket.connection import ChatSocket
from entrypoints.http.websocket.replies import Pong


class RecordingWebSocket:
    """Stands in for Litestar's WebSocket: records what the server sends."""

    def __init__(self, gone: bool = False) -> None:
        self.sent: list[str] = []
        self.closed_with: tuple[int, str] | None = None
        self.gone = gone

    async def send_text(self, text: str) -> None:
        if self.gone:
            raise WebSocketDisconnect(detail="gone")
        self.sent.append(text)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed_with = (code, reason)


def _principal(expires_in_s: float) -> Principal:
    expires = datetime.now(UTC) + timedelta(seconds=expires_in_s)
    return Principal(user_id=uuid4(), role="user", plan="free", method="jwt", expires_at=expires)


async def _closed(ws: RecordingWebSocket) -> tuple[int, str] | None:
    for _ in range(200):  # bounded: the timer fires after about 50 ms
        if ws.closed_with is not None:
            break
        await asyncio.sleep(0.01)
    return ws.closed_with


async def test_a_socket_closes_with_4401_when_its_token_expires() -> None:
    ws = RecordingWebSocket()
    principal = _principal(0.05)
    socket = ChatSocket(ws, principal, "token")  # type: ignore[arg-type]
    socket.authenticated_as(principal, "token")

    assert await _closed(ws) == (4401, "TOKEN_EXPIRED")
    assert socket.closed


async def test_a_fresh_token_replaces_the_old_expiry() -> None:
    ws = RecordingWebSocket()
    soon = _principal(0.05)
    socket = ChatSocket(ws, soon, "old")  # type: ignore[arg-type]
    socket.authenticated_as(soon, "old")
    socket.authenticated_as(_principal(3600), "new")

    await asyncio.sleep(0.2)

    assert ws.closed_with is None
    assert socket.credential == "new"
    socket.detach()


async def test_sending_to_a_client_that_left_reports_false_and_stops() -> None:
    ws = RecordingWebSocket(gone=True)
    socket = ChatSocket(ws, _principal(3600), "t")  # type: ignore[arg-type]

    assert await socket.send(Pong(timestamp="now")) is False
    assert socket.closed
    assert await socket.send(Pong(timestamp="later")) is False
