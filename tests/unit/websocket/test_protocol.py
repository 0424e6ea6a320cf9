"""The server's WebSocket protocol keeps less per idle socket and still behaves like
uvicorn's: events in order, one reader woken per event, flow control, and a handshake
whose parsed headers are let go once the socket is accepted."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from entrypoints.http.websocket.protocol import LeanWebSocketProtocol, _Inbox, _WriteGate


async def test_the_inbox_hands_out_events_in_order_and_wakes_a_waiting_reader() -> None:
    inbox = _Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    inbox.put_nowait("first")
    inbox.put_nowait("second")
    assert await reader == "first"
    assert not inbox.empty()
    assert await inbox.get() == "second"
    assert inbox.empty()


async def test_two_readers_each_get_one_event_and_a_cancelled_one_loses_none() -> None:
    inbox = _Inbox()
    cancelled = asyncio.create_task(inbox.get())
    first, second = asyncio.create_task(inbox.get()), asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    inbox.put_nowait("a")
    inbox.put_nowait("b")
    assert sorted(await asyncio.gather(first, second)) == ["a", "b"]
    assert inbox.empty()


async def test_the_write_gate_is_open_until_writing_pauses_and_reopens_on_resume() -> None:
    gate = _WriteGate()
    await asyncio.wait_for(gate.wait(), 1)  # never paused: no wait
    gate.clear()
    waiting = asyncio.create_task(gate.wait())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    gate.set()
    await asyncio.wait_for(waiting, 1)


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


_HANDSHAKE = (
    b"GET /ws?token=abc HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: "
    + base64.b64encode(b"0123456789abcdef")
    + b"\r\nSec-WebSocket-Version: 13\r\nX-Large: "
    + b"x" * 2000
    + b"\r\n\r\n"
)


async def test_an_accepted_socket_lets_go_of_its_handshake_and_still_echoes() -> None:
    received: list[Any] = []
    scopes: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        message = await receive()
        received.append(message)
        await send({"type": "websocket.send", "text": message["text"].upper()})
        received.append(await receive())

    config = Config(app=app, ws=LeanWebSocketProtocol, ws_ping_interval=None)
    config.load()
    protocol = LeanWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    transport = _Transport()
    protocol.connection_made(transport)
    protocol.data_received(_HANDSHAKE)
    for _ in range(100):
        if protocol.handshake_complete:
            break
        await asyncio.sleep(0.01)
    assert transport.written.startswith(b"HTTP/1.1 101")
    assert len(protocol.request.headers) == 0  # the parsed handshake is let go
    assert protocol.response is None  # type: ignore[comparison-overlap]
    assert (b"X-Large", b"x" * 2000) in scopes[0]["headers"]  # the scope keeps its copy

    frame = Frame(Opcode.TEXT, b"hello")
    protocol.data_received(frame.serialize(mask=True, extensions=[]))
    for _ in range(100):
        if received:
            break
        await asyncio.sleep(0.01)
    assert received[0] == {"type": "websocket.receive", "text": "hello"}
    await asyncio.sleep(0.01)
    assert b"HELLO" in transport.written
    protocol.connection_lost(None)
    for _ in range(100):
        if len(received) == 2:
            break
        await asyncio.sleep(0.01)
    assert received[1]["type"] == "websocket.disconnect"
