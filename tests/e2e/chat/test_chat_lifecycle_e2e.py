"""A reply is never left `streaming`: not by a graceful stop, not by a killed process."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from tests.e2e.chat.streams import new_conversation, sign_up, stored_reply, stream_reply
from tests.support.backends import Backend
from tests.support.server import run_server

pytestmark = pytest.mark.e2e

LONG_PROMPT = " ".join(f"w{i}" for i in range(400))


async def wait_until_finished(http, me, conversation: str, reply_id: str) -> dict:
    for _ in range(200):
        stored = await stored_reply(http, me, conversation, reply_id)
        if stored["status"] != "streaming":
            return stored
        await asyncio.sleep(0.05)
    raise AssertionError("the reply stayed streaming")


async def test_a_graceful_stop_stores_unfinished_replies_as_interrupted(
    backend: Backend, tmp_path
) -> None:
    env = {**backend.env, "PARLEY_FAKE_GAP_MS": "50", "PARLEY_CHAT_SHUTDOWN_GRACE_S": "0.2"}
    with run_server(env, tmp_path) as first:
        async with httpx.AsyncClient(base_url=first.base_url, timeout=30) as http:
            me = await sign_up(http)
            conversation = await new_conversation(http, me)
            seen = await stream_reply(http, me, conversation, LONG_PROMPT, stop_after=3)
        first.process.send_signal(signal.SIGTERM)
        first.process.wait(timeout=20)  # uvicorn exits by re-raising SIGTERM: no exit code 0
        assert "generations_interrupted_by_shutdown" in first.logs()
        assert "Traceback" not in first.logs()
    with run_server(backend.env, tmp_path) as second:
        async with httpx.AsyncClient(base_url=second.base_url, timeout=30) as http:
            reply_id = seen.events[0][2]["assistant_message_id"]
            stored = await stored_reply(http, me, conversation, reply_id)
    assert (stored["status"], stored["error_code"]) == ("failed", "INTERRUPTED")
    assert stored["content"].startswith(seen.text)
    assert len(stored["content"]) < len("Echo: " + LONG_PROMPT)


async def test_replies_of_a_killed_process_are_recovered_by_the_next_one(
    backend: Backend, tmp_path
) -> None:
    env = {**backend.env, "PARLEY_FAKE_GAP_MS": "50", "PARLEY_CHAT_LEASE_S": "1"}
    with run_server(env, tmp_path) as doomed:
        async with httpx.AsyncClient(base_url=doomed.base_url, timeout=30) as http:
            me = await sign_up(http)
            conversation = await new_conversation(http, me)
            seen = await stream_reply(http, me, conversation, LONG_PROMPT, stop_after=5)
        doomed.process.kill()
        doomed.process.wait(timeout=10)
    with run_server(env, tmp_path) as survivor:
        async with httpx.AsyncClient(base_url=survivor.base_url, timeout=30) as http:
            reply_id = seen.events[0][2]["assistant_message_id"]
            stored = await wait_until_finished(http, me, conversation, reply_id)
    assert (stored["status"], stored["error_code"]) == ("failed", "INTERRUPTED")
    if backend.uses_redis:  # the log survived the process: the text clients saw is kept
        assert stored["content"].startswith(seen.text)
