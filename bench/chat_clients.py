"""Lean streaming clients for bench/chat.py: they record when each content chunk arrives.

Raw asyncio streams for HTTP (SSE from Parley, OpenAI-style SSE from the mock), the
``websockets`` client for WebSocket. A general-purpose HTTP client would spend more CPU per
chunk than the servers it measures, and this box has two cores for everything.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect

_MOCK_CONTENT = re.compile(rb'"content":\s*"[^"]')
_PARLEY_DELTA = re.compile(rb"event: delta\n")
STREAM_TIMEOUT_S = 120.0


@dataclass
class Stream:
    """One reply: seconds from the request to each content chunk (empty: it failed)."""

    arrivals: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ttft_s(self) -> float | None:
        return self.arrivals[0] if self.arrivals else None

    @property
    def gaps_s(self) -> list[float]:
        return [b - a for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, requests one after another."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def _request(self, path: str, body: dict, accept: str) -> bytes:
        raw = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nAccept: {accept}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {len(raw)}\r\n\r\n"
        )
        return head.encode() + raw

    async def stream(self, path: str, body: dict, parley: bool) -> Stream:
        """POST and time every content event of the SSE reply."""
        assert self._reader is not None and self._writer is not None
        marker = _PARLEY_DELTA if parley else _MOCK_CONTENT
        result = Stream()
        started = time.perf_counter()
        self._writer.write(self._request(path, body, "text/event-stream"))
        head = await self._reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            result.error = head.split(b"\r\n", 1)[0].decode()
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", head.lower())
        if length:  # a refusal (problem+json), not a stream
            await self._reader.readexactly(int(length.group(1)))
            return result
        while True:  # chunked transfer encoding: size line, data, CRLF; 0 ends it
            size = int((await self._reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await self._reader.readline()
                return result
            data = await self._reader.readexactly(size + 2)
            now = time.perf_counter() - started
            # Several events in one chunk arrived together: that is what a client sees.
            result.arrivals.extend([now] * len(marker.findall(data)))

    async def post(self, path: str, body: dict) -> int:
        """POST JSON, read the whole reply; its status code."""
        assert self._reader is not None and self._writer is not None
        self._writer.write(self._request(path, body, "application/json"))
        head = await self._reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", head.lower())
        await self._reader.readexactly(int(length.group(1)) if length else 0)
        return int(head.split(b" ", 2)[1])


async def ws_chat(ws: ClientConnection, request_id: str, **chat: str) -> Stream:
    """One ``chat`` frame on an open socket; time each ``delta`` until ``done``."""
    result = Stream()
    started = time.perf_counter()
    frame = {"type": "chat", "request_id": request_id, **chat}
    await ws.send(json.dumps(frame))
    while True:
        message = json.loads(await ws.recv())
        kind = message["type"]
        if kind == "delta":
            result.arrivals.append(time.perf_counter() - started)
        elif kind == "done":
            return result
        elif kind == "error":
            result.error = message.get("code", "error")
            return result


async def bounded(work: asyncio.Future | asyncio.Task | object, what: str) -> Stream:
    """A stream that hangs is a failure, not a stuck benchmark."""
    try:
        return await asyncio.wait_for(work, STREAM_TIMEOUT_S)  # type: ignore[arg-type]
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return Stream(error=f"{what}: {type(exc).__name__}")


async def open_idle_sockets(urls: list[str]) -> list[ClientConnection]:
    """Authenticated sockets that then sit idle (past their ``ready`` frame)."""
    gate = asyncio.Semaphore(64)

    async def one(url: str) -> ClientConnection:
        async with gate:
            ws = await connect(url, compression=None, open_timeout=120, ping_interval=None)
            await ws.recv()
            return ws

    return list(await asyncio.gather(*(one(u) for u in urls)))
