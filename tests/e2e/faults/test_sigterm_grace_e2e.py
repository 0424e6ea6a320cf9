"""SIGTERM of a real `parley serve` while replies are running (both backends).

New turns are refused with a 503 problem; a reply that ends within the grace period
(`PARLEY_CHAT_SHUTDOWN_GRACE_S`) ends normally; longer ones (longer, too, than uvicorn's own
10 s shutdown limit) are stopped when it runs out: each SSE stream and WebSocket stream gets
its final event, a non-streaming request gets a 503 problem, and what is stored is exactly
what was streamed. No tracebacks.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.chat.streams import new_conversation, sign_up, stored_reply
from tests.e2e.faults.raw_sse import Reading, read_sse, send_url
from tests.e2e.ws_support import open_socket, send, stream
from tests.support.backends import Backend
from tests.support.server import run_server

pytestmark = pytest.mark.e2e

GRACE_S = 3
LONG = " ".join(f"w{i}" for i in range(400))  # about 20 s at 50 ms a token
SHORT = " ".join(f"s{i}" for i in range(10))  # well within the grace period


async def test_sigterm_gives_replies_their_grace_then_ends_every_stream_as_stored(
    backend: Backend, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    env = {
        **backend.env,
        "PARLEY_FAKE_GAP_MS": "50",
        "PARLEY_CHAT_SHUTDOWN_GRACE_S": str(GRACE_S),
        "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    }
    with run_server(env, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            me = await sign_up(http)
            token = me["Authorization"].removeprefix("Bearer ")
            conversations = [await new_conversation(http, me) for _ in range(4)]
            long_sse, short_sse = Reading(), Reading()
            tasks = [
                asyncio.create_task(read_sse(http, "POST", send_url(conversations[0]), long_sse,
                                             json={"content": LONG, "stream": True}, headers=me)),
            ]  # fmt: skip
            waiting = asyncio.create_task(
                http.post(send_url(conversations[1]), json={"content": LONG}, headers=me)
            )
            ws = await open_socket(server, token)
            await send(ws, type="chat", request_id="ws-1", conversation_id=conversations[2],
                       content=LONG)  # fmt: skip
            ws_frames = asyncio.create_task(stream(ws, "ws-1"))
            await long_sse.wait_for(5)
            tasks.append(
                asyncio.create_task(read_sse(http, "POST", send_url(conversations[3]), short_sse,
                                             json={"content": SHORT, "stream": True}, headers=me))
            )  # fmt: skip
            await short_sse.wait_for(2)

            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            await asyncio.sleep(0.5)
            refused = await http.post(
                send_url(conversations[3]), json={"content": "too late"}, headers=me
            )
            ready = await http.get("/health/ready")  # a balancer moves traffic elsewhere
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            waited = await asyncio.wait_for(waiting, 30)
            frames: list[dict[str, Any]] = await asyncio.wait_for(ws_frames, 30)
            await ws.close()
            ended = long_sse.final.at - signalled if long_sse.final is not None else None
        server.process.wait(timeout=30)
        logs = server.logs()
    record_property("long_reply_final_event_after_sigterm_s", ended)
    print(f"\nlong reply's final event {ended:.2f} s after SIGTERM (grace {GRACE_S} s)")

    assert (refused.status_code, refused.json()["code"]) == (503, "SHUTTING_DOWN")
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert ready.status_code == 503
    assert ready.json()["components"]["turns"]["status"] == "down"
    assert short_sse.final is not None and short_sse.final.kind == "done"
    assert short_sse.text == "Echo: " + SHORT
    final = long_sse.final
    assert final is not None and final.kind == "error", long_sse.events[-2:]
    assert final.data["code"] == "INTERRUPTED"
    assert final.data["message"]["content"] == long_sse.text
    assert all(e.id is not None for e in long_sse.events)
    assert waited.status_code == 503, waited.text
    assert waited.headers["content-type"].startswith("application/problem+json")
    assert waited.json()["code"] == "INTERRUPTED"
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "INTERRUPTED", frames[-1]
    ws_text = "".join(f["content"] for f in frames if f["type"] == "delta")
    assert frames[-1]["message"]["content"] == ws_text
    assert "Traceback" not in logs and "Task exception was never retrieved" not in logs
    assert "timeout graceful shutdown exceeded" not in logs

    with run_server(backend.env, tmp_path) as restarted:
        async with httpx.AsyncClient(base_url=restarted.base_url, timeout=30) as http:
            listed = []
            for conversation in conversations:
                response = await http.get(f"/api/v1/conversations/{conversation}/messages",
                                          headers=me)  # fmt: skip
                listed.append([m for m in response.json()["items"] if m["role"] == "assistant"])
            short_id = short_sse.events[0].data["assistant_message_id"]
            short = await stored_reply(http, me, conversations[3], short_id)
    long_stored, waited_stored, ws_stored = listed[0][0], listed[1][0], listed[2][0]
    assert (long_stored["status"], long_stored["error_code"]) == ("failed", "INTERRUPTED")
    assert long_stored["content"] == long_sse.text  # exactly what the client saw
    assert (waited_stored["status"], waited_stored["error_code"]) == ("failed", "INTERRUPTED")
    assert (ws_stored["status"], ws_stored["content"]) == ("failed", ws_text)
    assert (short["status"], short["content"]) == ("complete", short_sse.text)
    assert len(listed[3]) == 1  # the refused turn stored nothing
