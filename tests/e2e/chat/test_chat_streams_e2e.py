"""Streaming chat against the real server process: no reply is ever lost (R19)."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from tests.e2e.chat.streams import (
    API,
    new_conversation,
    resume,
    sign_up,
    stored_reply,
    stream_reply,
)
from tests.support.backends import Backend
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e

LONG_PROMPT = " ".join(f"word{i}" for i in range(40))


async def test_a_streamed_reply_is_stored_exactly_as_streamed(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        got = await stream_reply(http, me, conversation, "hello from a real client")
        start, done = got.events[0], got.last
        assert (start[1], done[1]) == ("start", "done")
        assert got.ids == list(range(1, len(got.events) + 1))
        stored = await stored_reply(http, me, conversation, start[2]["assistant_message_id"])
    assert stored == done[2]["message"]
    assert stored["status"] == "complete"
    assert stored["content"] == got.text == "Echo: hello from a real client"


async def test_twenty_concurrent_streams_all_complete_intact(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        me = await sign_up(http)
        conversations = [await new_conversation(http, me) for _ in range(20)]
        results = await asyncio.gather(
            *(stream_reply(http, me, c, f"stream number {i}") for i, c in enumerate(conversations))
        )
        for i, (conversation, got) in enumerate(zip(conversations, results, strict=True)):
            reply_id = got.events[0][2]["assistant_message_id"]
            stored = await stored_reply(http, me, conversation, reply_id)
            assert got.last[1] == "done"
            assert stored["content"] == got.text == f"Echo: stream number {i}"


@pytest.fixture(scope="module")
def slow_server(backend: Backend, tmp_path_factory: pytest.TempPathFactory):
    """A server whose fake model pauses 3 ms between tokens, so clients can hang up mid-reply."""
    env = {**backend.env, "PARLEY_FAKE_GAP_MS": "3"}
    with run_server(env, tmp_path_factory.mktemp(f"slow-{backend.name}")) as running:
        yield running


async def test_hanging_up_at_random_points_never_loses_a_reply(slow_server: RunningServer) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=slow_server.base_url, timeout=30) as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        for attempt in range(30):
            context = f"seed={seed} attempt={attempt}"
            before = await stream_reply(
                http, me, conversation, LONG_PROMPT, stop_after=rng.randint(1, 30)
            )
            generation = before.events[0][2]["generation_id"]
            reply_id = before.events[0][2]["assistant_message_id"]
            if rng.random() < 0.3:
                await asyncio.sleep(0.3)  # nobody is listening while it finishes
            after = await resume(http, me, conversation, generation, before.events[-1][0])
            combined = before.ids + after.ids
            assert combined == list(range(1, len(combined) + 1)), context
            done = (before.events + after.events)[-1]
            assert done[1] == "done", context
            stored = await stored_reply(http, me, conversation, reply_id)
            assert stored["status"] == "complete", context
            assert stored["content"] == before.text + after.text == done[2]["message"]["content"]
            assert stored["content"] == "Echo: " + LONG_PROMPT, context


async def test_cancel_keeps_exactly_the_text_streamed_so_far(slow_server: RunningServer) -> None:
    very_long = " ".join(f"w{i}" for i in range(600))  # ~2 s of tokens: time to cancel
    async with httpx.AsyncClient(base_url=slow_server.base_url, timeout=30) as http:
        me = await sign_up(http)
        conversation = await new_conversation(http, me)
        before = await stream_reply(http, me, conversation, very_long, stop_after=4)
        generation = before.events[0][2]["generation_id"]
        reply_id = before.events[0][2]["assistant_message_id"]
        cancel = await http.post(
            f"{API}/{conversation}/generations/{generation}/cancel", headers=me
        )
        after = await resume(http, me, conversation, generation, before.events[-1][0])
        stored = await stored_reply(http, me, conversation, reply_id)
    assert cancel.status_code == 202
    assert after.last[1] == "done" and after.last[2]["message"]["status"] == "cancelled"
    assert stored["status"] == "cancelled"
    assert stored["content"] == before.text + after.text
    assert 0 < len(stored["content"]) < len("Echo: " + very_long)
