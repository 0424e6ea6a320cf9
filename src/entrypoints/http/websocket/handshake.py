"""Opening a socket: Origin check, rate limit, then authentication.

A foreign Origin is refused before the upgrade (the client sees HTTP 403). The credential
comes from ``?token=`` or, for clients that keep tokens out of URLs, a first frame
``{"type": "auth", "token"}``; any failure closes the socket with code 4401 and the error
code as the close reason.

Each handshake counts against the ``default`` request limit of its caller: the user (or
API key) of a valid ``?token=``, else the client address (a first-frame credential is
not known before the upgrade, and a bad one is counted like any failed request). A
handshake over the limit is refused before the upgrade with HTTP 429, a problem+json
body, ``Retry-After`` and ``RateLimit-*`` headers (the ASGI WebSocket denial response,
which uvicorn supports; a server without it can only refuse with a bare 403).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import structlog
from litestar import WebSocket

from application.identity.principal import Principal
from domain.errors import TooManyRequests, Unauthenticated, Unavailable
from entrypoints.http.problems import PROBLEM_JSON, problem_body, rate_limit_headers
from entrypoints.http.rate_limit_guard import subject_for
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
    origin = _header(ws, b"origin")
    if not services.origins.allows(origin, _header(ws, b"host"), ws.scope.get("scheme", "ws")):
        log.warning("ws_origin_refused", origin=origin[:200] if origin else None)
        await ws.close(code=CLOSE_POLICY, reason="ORIGIN_NOT_ALLOWED")
        return None
    token = _query_token(ws)
    principal: Principal | None = None
    refusal: Unauthenticated | Unavailable | None = None
    if token:
        try:
            principal = await services.authenticate(token)
        except (Unauthenticated, Unavailable) as exc:
            refusal = exc
    if not await _within_rate_limit(ws, services, principal):
        return None
    await ws.accept()
    if principal is None and refusal is None:
        try:
            token = await _token_from_first_frame(ws, services) or ""
        except _Gone:
            return None
        if not token:
            await ws.close(code=CLOSE_UNAUTHENTICATED, reason="UNAUTHENTICATED")
            return None
        try:
            principal = await services.authenticate(token)
        except (Unauthenticated, Unavailable) as exc:
            refusal = exc
    if principal is None:
        code = CLOSE_TRY_LATER if isinstance(refusal, Unavailable) else CLOSE_UNAUTHENTICATED
        await ws.close(code=code, reason=refusal.code if refusal else "UNAUTHENTICATED")
        return None
    socket = ChatSocket(ws, principal, token)
    socket.authenticated_as(principal, token)
    return socket


def _header(ws: Socket, name: bytes) -> str | None:
    """A request header read from the raw scope. ``ws.headers`` would parse every header
    into a mapping cached in the scope, which an idle socket then keeps for its life."""
    for key, value in ws.scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _query_token(ws: Socket) -> str:
    """``?token=`` (its first value), read like ``_header``: nothing kept in the scope."""
    query = ws.scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "token":
            return value
    return ""


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


async def _within_rate_limit(
    ws: Socket, services: SocketServices, principal: Principal | None
) -> bool:
    """Count the handshake; when it is over the limit, refuse it before the upgrade."""
    if principal is not None:
        subject = subject_for("default", principal)
    else:
        subject = f"ip:{ws.scope.get('state', {}).get('client_ip', 'unknown')}"
    try:
        await services.handshakes.check("default", subject)
    except TooManyRequests as exc:
        log.info("ws_handshake_rate_limited", subject=subject.split(":", 1)[0])
        await _deny(ws, exc)
        return False
    except Unavailable:
        return True  # the limiter degrades on its own; an outage never blocks sockets here
    return True


async def _deny(ws: Socket, exc: TooManyRequests) -> None:
    if "websocket.http.response" not in (ws.scope.get("extensions") or {}):
        await ws.close(code=CLOSE_POLICY, reason=exc.code)  # the server can only say 403
        return
    request_id = str(structlog.contextvars.get_contextvars().get("request_id", ""))
    body = msgspec.json.encode(
        problem_body(429, exc.code, exc.detail, title=exc.title, request_id=request_id)
    )
    headers = {**rate_limit_headers(exc), "content-type": PROBLEM_JSON}
    if request_id:
        headers["x-request-id"] = request_id
    await ws.send(
        {
            "type": "websocket.http.response.start",
            "status": 429,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await ws.send({"type": "websocket.http.response.body", "body": body, "more_body": False})
