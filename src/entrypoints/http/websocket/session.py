"""One socket's traffic: frames in, the chat use cases called, stream frames out.

Thin like every transport: ``chat`` is SendMessage (which also creates the conversation when
none is named, and applies the chat-send limit), streaming is ResumeGeneration over the
generation log, ``cancel`` is CancelGeneration. Several requests stream at once
(``streams``), tagged with the client's ``request_id``. A disconnect only stops the
forwarding; generations keep running in the process-owned runner and are stored.
"""

from __future__ import annotations

from typing import Any

from dishka import AsyncContainer
from litestar import WebSocket

from domain.errors import DomainError, Forbidden
from entrypoints.http.websocket.connection import CLOSE_TOO_BIG, ChatSocket
from entrypoints.http.websocket.frames import (
    AuthFrame,
    CancelFrame,
    ChatFrame,
    ClientFrame,
    InvalidFrame,
    PingFrame,
    ResumeFrame,
    decode_frame,
)
from entrypoints.http.websocket.replies import Pong, error_frame, ready_frame, utc_now
from entrypoints.http.websocket.services import SocketServices
from entrypoints.http.websocket.streams import SocketStreams


class OtherUser(Forbidden):
    code = "AUTH_USER_MISMATCH"
    title = "A socket stays with one user"


class SocketSession:
    __slots__ = ("_services", "_socket", "_streams")

    def __init__(
        self, socket: ChatSocket, container: AsyncContainer, services: SocketServices
    ) -> None:
        self._socket = socket
        self._services = services
        self._streams = SocketStreams(
            socket,
            container,
            max_streams=services.limits.max_streams_per_socket,
        )

    async def run(self, ws: WebSocket[Any, Any, Any]) -> None:
        """Read frames until the client leaves or the socket is closed."""
        limit = self._services.limits.max_frame_bytes
        await self._socket.send(ready_frame(self._socket.principal))
        while not self._socket.closed:
            event = await ws.receive()
            if event["type"] != "websocket.receive":
                return
            text = event.get("text")
            raw: str | bytes = text if text is not None else (event.get("bytes") or b"")
            if len(raw) > limit or (len(raw) * 4 > limit and len(_utf8(raw)) > limit):
                # Defence in depth: the server's own max size (1009) normally stops it first.
                await self._socket.close(CLOSE_TOO_BIG, "FRAME_TOO_LARGE")
                return
            await self.handle(raw)

    def detach(self) -> None:
        """The client left: stop forwarding; generations themselves run on."""
        self._socket.detach()
        self._streams.stop_forwarding()

    async def handle(self, raw: str | bytes) -> None:
        decoded = decode_frame(raw)
        try:
            decision = await self._services.limiter.hit(
                f"ws:{self._socket.principal.user_id}", self._services.frame_rate
            )
            decision.raise_if_denied("too many WebSocket frames; slow down")
            if isinstance(raw, bytes):
                raise InvalidFrame("send JSON in text frames, not binary ones")
            if decoded.error is not None:
                raise decoded.error
            assert decoded.frame is not None
            await self._dispatch(decoded.frame)
        except DomainError as exc:
            await self._socket.send(error_frame(exc, decoded.request_id))

    async def _dispatch(self, frame: ClientFrame) -> None:
        if isinstance(frame, ChatFrame):
            self._streams.chat(frame)
        elif isinstance(frame, ResumeFrame):
            self._streams.resume(frame)
        elif isinstance(frame, CancelFrame):
            await self._streams.cancel(frame.request_id)
        elif isinstance(frame, PingFrame):
            await self._socket.send(Pong(utc_now(), frame.request_id))
        elif isinstance(frame, AuthFrame):
            await self._reauthenticate(frame.token)

    async def _reauthenticate(self, token: str) -> None:
        """A fresh access token (after a refresh) keeps the socket open past the old one's
        expiry; it must belong to the same user."""
        principal = await self._services.authenticate(token)
        if principal.user_id != self._socket.principal.user_id:
            raise OtherUser("this socket is authenticated as another user")
        self._socket.authenticated_as(principal, token)
        await self._socket.send(ready_frame(principal))


def _utf8(raw: str | bytes) -> bytes:
    return raw.encode() if isinstance(raw, str) else raw
