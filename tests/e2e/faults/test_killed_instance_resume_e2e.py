"""`kill -9` of the instance running a reply, with two `parley serve` instances on one
PostgreSQL database and one Redis, at the default lease settings.

The client resumes on the other instance from its last event id: it gets the rest without
a gap and then its final event (the reply stored `failed` with `INTERRUPTED`, keeping every
delta any client was sent) within seconds: the dead instance's lease lapses (5 s) and the
survivor's sweep, which runs every third of a lease, finishes the reply. Before, the lease
was 30 s and the sweep ran every 30 s: about a minute of keep-alives.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.chat.streams import new_conversation, sign_up, stored_reply
from tests.e2e.faults.raw_sse import Reading, events_url, read_sse, send_url
from tests.support.backends import Backend
from tests.support.server import run_server

pytestmark = pytest.mark.e2e

PROMPT = " ".join(f"w{i}" for i in range(600))  # about 30 s at 50 ms a token: still running
PATIENCE_S = 30
"""A generous bound (the measured time is reported): a client waits no longer."""


async def test_a_killed_instances_reply_ends_on_the_other_within_seconds(
    backend: Backend, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    if not backend.uses_redis:
        pytest.skip("resume on another instance needs the shared log: postgres backend")
    env = {**backend.env, "PARLEY_FAKE_GAP_MS": "50", "PARLEY_AUTH_DEFAULT_PLAN": "unlimited"}
    with run_server(env, tmp_path) as doomed, run_server(env, tmp_path) as survivor:
        async with (
            httpx.AsyncClient(base_url=doomed.base_url, timeout=60) as on_doomed,
            httpx.AsyncClient(base_url=survivor.base_url, timeout=60) as on_survivor,
        ):
            me = await sign_up(on_doomed)
            conversation = await new_conversation(on_doomed, me)
            before = Reading()
            body = {"content": PROMPT, "stream": True}
            streaming = asyncio.create_task(
                read_sse(on_doomed, "POST", send_url(conversation), before, json=body, headers=me)
            )
            await before.wait_for(8)
            doomed.process.kill()  # SIGKILL: no shutdown hook runs
            killed = time.monotonic()
            await asyncio.wait_for(streaming, 10)  # the connection broke
            generation = before.events[0].data["generation_id"]
            reply_id = before.events[0].data["assistant_message_id"]

            after = Reading()
            url = events_url(conversation, generation)
            await asyncio.wait_for(
                read_sse(on_survivor, "GET", url, after,
                         headers={**me, "Last-Event-ID": before.last_id}),
                PATIENCE_S,
            )  # fmt: skip
            waited = time.monotonic() - killed
            record_property("final_event_after_kill_s", round(waited, 2))
            print(f"\nfinal event {waited:.2f} s after kill -9")
            stored = await stored_reply(on_survivor, me, conversation, reply_id)

    assert after.status == 200
    final = after.final
    assert final is not None and final.kind == "error", after.events[-3:]
    assert final.data["code"] == "INTERRUPTED"
    seen = before.events + after.events
    assert [e.id for e in seen] == [str(i) for i in range(1, len(seen) + 1)]  # no gap
    streamed = before.text + after.text
    assert final.data["message"]["content"] == streamed
    assert (stored["status"], stored["error_code"]) == ("failed", "INTERRUPTED")
    assert stored["content"] == streamed
    assert len(streamed) < len("Echo: " + PROMPT)
