"""One authenticated socket: who is on it, with which credential, and a serialised sender.

Kept deliberately small (slots, no per-socket tasks or queues): about 20 KiB per
connection at 10,000 sockets. Expiry is a loop timer, revocation a push from the event bus
plus a slow shared sweep (registry).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from application.identity.principal import Principal
from entrypoints.http.websocket.replies import ServerFrame, encode
from entrypoints.http.websocket.tasks import spawn

log = structlog.get_logger("parley.ws")

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_LATER = 1013
CLOSE_UNAUTHENTICATED = 4401

_OWN_GENERATIONS = 64
"""Recent generations a socket remembers starting: more than it may stream at once."""
_SETTLE_WAIT_S = 5.0


class ChatSocket:
    __slots__ = (
        "_expiry",
        "_lock",
        "_own",
        "_settled",
        "_starting",
        "_ws",
        "closed",
        "credential",
        "failed_checks",
        "principal",
    )

    def __init__(self, ws: WebSocket[Any, Any, Any], principal: Principal, credential: str) -> None:
        self._ws = ws
        self._lock = asyncio.Lock()
        self._expiry: asyncio.TimerHandle | None = None
        self.principal = principal
        self.credential = credential
        self.closed = False
        self.failed_checks = 0
        """Re-checks in a row that could not reach the revocation store (see registry)."""
        # Generations this socket started, so their ``message.completed`` is not echoed to
        # it (it streams them itself); created on the first chat, most sockets never chat.
        self._own: deque[UUID] | None = None
        self._starting = 0
        self._settled: asyncio.Event | None = None

    async def send(self, frame: ServerFrame) -> bool:
        """Send one frame; False once the socket is gone (callers then stop streaming)."""
        return await self.send_text(encode(frame))

    async def send_text(self, text: str) -> bool:
        """Send an encoded frame (pushes encode once for all of a user's sockets)."""
        if self.closed:
            return False
        try:
            # One writer at a time: several streams share this socket.
            async with self._lock:
                await self._ws.send_text(text)
        except (WebSocketDisconnect, OSError, RuntimeError):
            self.closed = True
            return False
        return True

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self._disarm()
        log.info(
            "ws_closed_by_server", user_id=str(self.principal.user_id), code=code, reason=reason
        )
        try:
            async with self._lock:
                await self._ws.close(code=code, reason=reason[:120])
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass

    def authenticated_as(self, principal: Principal, credential: str) -> None:
        """(Re-)bind the socket to a credential and close it when that expires."""
        self.principal = principal
        self.credential = credential
        self._disarm()
        if principal.expires_at is None:
            return  # API keys do not expire; the registry's re-check catches deletion
        delay = (principal.expires_at - datetime.now(UTC)).total_seconds()
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(max(delay, 0.0), self._expire)

    def chat_starting(self) -> None:
        """A ``chat`` frame is starting a generation whose id is not known yet."""
        self._starting += 1
        if self._settled is None:
            self._settled = asyncio.Event()
        self._settled.clear()

    def chat_started(self, generation_id: UUID | None) -> None:
        if generation_id is not None:
            if self._own is None:
                self._own = deque(maxlen=_OWN_GENERATIONS)
            self._own.append(generation_id)
        self._starting = max(0, self._starting - 1)
        if self._starting == 0 and self._settled is not None:
            self._settled.set()

    async def started_here(self, generation_id: UUID) -> bool:
        """Whether this socket started ``generation_id``. A fast reply can finish before
        its ``chat`` start returns here, so wait (briefly) for starts still under way."""
        if self._starting and self._settled is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), _SETTLE_WAIT_S)
        return self._own is not None and generation_id in self._own

    def detach(self) -> None:
        """The client went away: nothing more to send, no timer to keep."""
        self.closed = True
        self._disarm()

    def _expire(self) -> None:
        spawn(self.close(CLOSE_UNAUTHENTICATED, "TOKEN_EXPIRED"))

    def _disarm(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
