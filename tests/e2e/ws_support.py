"""Helpers for WebSocket end-to-end tests: open sockets on the real server, read frames."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.support.server import RunningServer

# Replies stream for a moment (cancel and resume need a stream still running); credentials
# are re-checked often so a logout closes sockets quickly; small limits keep tests cheap.
# The unlimited plan lets one account stream 20 replies at once (the transport is under
# test here, not plan quotas); the chat limit still applies (and is tested).
WS_ENV = {
    "PARLEY_FAKE_GAP_MS": "15",
    "PARLEY_WS_RECHECK_S": "0.3",
    "PARLEY_WS_MESSAGES_PER_MINUTE": "300",
    "PARLEY_WS_MAX_FRAME_BYTES": "65536",
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    "PARLEY_LIMITS_CHAT_PER_MINUTE": "40",
    # The same budget as one hourly window: the limiter's sliding window forgives one send
    # right after a window boundary, a clock minute would put one inside a test every ~60 runs.
    "PARLEY_LIMITS_CHAT": "40/hour",
}

FRAME_TIMEOUT_S = 15.0
Frame = dict[str, Any]
PUSHED = frozenset({"notification", "message.completed", "job.updated"})
"""Frames pushed from the user's other devices and instances, not part of any request."""


def ws_url(server: RunningServer, token: str | None = None) -> str:
    url = f"ws://127.0.0.1:{server.port}/api/v1/ws"
    return f"{url}?token={token}" if token is not None else url


async def open_socket(
    server: RunningServer, token: str, origin: str | None = None
) -> ClientConnection:
    """An authenticated socket, past its ``ready`` frame."""
    ws = await connect(ws_url(server, token), origin=origin, compression=None)  # type: ignore[arg-type]
    ready = await next_frame(ws)
    assert ready["type"] == "ready", ready
    return ws


async def next_frame(ws: ClientConnection) -> Frame:
    raw = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT_S)
    frame: Frame = json.loads(raw)
    return frame


async def send(ws: ClientConnection, **frame: Any) -> None:
    await ws.send(json.dumps(frame))


async def streams(ws: ClientConnection, request_ids: set[Any]) -> dict[Any, list[Frame]]:
    """Every frame of each request, until each has its final ``done`` or ``error``."""
    frames: dict[Any, list[Frame]] = defaultdict(list)
    open_ids = set(request_ids)
    while open_ids:
        frame = await next_frame(ws)
        if frame["type"] in PUSHED:
            continue  # another of the user's sockets finished a reply
        key = frame.get("request_id")
        assert key in request_ids, f"unexpected frame {frame}"
        frames[key].append(frame)
        if frame["type"] in ("done", "error"):
            open_ids.discard(key)
    return dict(frames)


async def stream(ws: ClientConnection, request_id: Any) -> list[Frame]:
    return (await streams(ws, {request_id}))[request_id]


def text_of(frames: list[Frame]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "delta")


async def chat(ws: ClientConnection, request_id: str, content: str, **extra: Any) -> list[Frame]:
    await send(ws, type="chat", request_id=request_id, content=content, **extra)
    return await stream(ws, request_id)


def words(count: int) -> str:
    """A message whose echo streams ``count`` + 1 tokens (one per word)."""
    return " ".join(f"w{i}" for i in range(count))
