"""uvicorn's sans-I/O WebSocket protocol, lighter per idle socket.

An idle socket is mostly its server-side protocol object, so its fixed parts are what
10,000 sockets multiply. Three of them are only needed around the handshake or while a
client is slow to read, yet uvicorn keeps them for the socket's whole life:

- an ``asyncio.Queue`` for incoming events (four deques and an Event, about 3 KiB) where
  there is one reader and rarely more than one event waiting: here a list and a future;
- an ``asyncio.Event`` for "the transport may take more bytes" (a deque of waiters), set
  for almost the whole life of a socket: here created only the first time writing pauses;
- the handshake's request and response with their parsed headers (about 3.5 KiB, also
  held by the websockets parser), which nothing reads once the socket is accepted: their
  headers are emptied then. The ASGI scope keeps its own copy of the request headers.

Everything else (framing, keep-alive pings, close handshake, size limits) is uvicorn's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class _Inbox:
    """What the protocol uses of ``asyncio.Queue``: ``put_nowait``, ``get`` and ``empty``."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiters: list[asyncio.Future[None]] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


class _WriteGate:
    """What the protocol uses of ``asyncio.Event`` for flow control: open until the
    transport's buffer is full; the Event exists only once that has happened."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def set(self) -> None:
        if self._event is not None:
            self._event.set()

    def clear(self) -> None:
        if self._event is None:
            self._event = asyncio.Event()
        self._event.clear()

    async def wait(self) -> None:
        if self._event is not None:
            await self._event.wait()


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """``ws="websockets-sansio"`` with the per-socket savings described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _WriteGate()  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self._forget_handshake()

    def _forget_handshake(self) -> None:
        request = getattr(self, "request", None)
        if request is not None:
            request.headers.clear()
        response = getattr(self, "response", None)
        if response is not None:
            response.headers.clear()
            self.response = None  # type: ignore[assignment]
