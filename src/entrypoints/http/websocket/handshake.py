"""Opening a socket: Origin check, then authentication (R9).

A foreign Origin is refused before the upgrade (the client sees HTTP 403). The credential
comes from ``?token=`` or, for clients that keep tokens out of URLs, a first frame
``{"type": "auth", "token"}``; any failure closes the socket with code 4401 and the error
code as the close reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from litestar import WebSocket

from domain.errors import Unauthenticated, Unavailable
from entrypoints.http.websocket.connection import (
    CLOSE_POLICY,
    CLOSE_TRY_LATER,
    CLOSE_UNAUTHENTICATED,
    ChatSocket,
)
from entrypoints.http.websocket.frames import AuthFrame, decode_frame
from entrypoints.http.websocket.services import SocketServices

log = structlog.get_logger("parley.ws")

Socket = WebSocket[Any, Any, Any]


class _Gone(Exception):
    """The client disconnected during the handshake."""


async def open_socket(ws: Socket, services: SocketServices) -> ChatSocket | None:
    """An authenticated socket, or None after refusing or closing it."""
    origin = ws.headers.get("origin")
    if not services.origins.allows(origin, ws.headers.get("host"), ws.scope.get("scheme", "ws")):
        log.warning("ws_origin_refused", origin=origin[:200] if origin else None)
        await ws.close(code=CLOSE_POLICY, reason="ORIGIN_NOT_ALLOWED")
        return None
    await ws.accept()
    try:
        token = ws.query_params.get("token") or await _token_from_first_frame(ws, services)
    except _Gone:
        return None
    if not token:
        await ws.close(code=CLOSE_UNAUTHENTICATED, reason="UNAUTHENTICATED")
        return None
    try:
        principal = await services.authenticate(token)
    except Unauthenticated as exc:
        await ws.close(code=CLOSE_UNAUTHENTICATED, reason=exc.code)
        return None
    except Unavailable as exc:
        await ws.close(code=CLOSE_TRY_LATER, reason=exc.code)
        return None
    socket = ChatSocket(ws, principal, token)
    socket.authenticated_as(principal, token)
    return socket


async def _token_from_first_frame(ws: Socket, services: SocketServices) -> str | None:
    try:
        event = await asyncio.wait_for(ws.receive(), services.limits.auth_timeout_s)
    except TimeoutError:
        return None
    if event["type"] != "websocket.receive":
        raise _Gone
    raw = event.get("text") or event.get("bytes") or ""
    if len(raw) > services.limits.max_frame_bytes:
        return None
    frame = decode_frame(raw).frame
    return frame.token if isinstance(frame, AuthFrame) else None
