"""Redis dies (SIGKILL) while a reply streams, on two `parley serve` instances sharing a
private redis-server and one PostgreSQL database.

The client attached to the instance that runs the reply keeps receiving it to its `done`,
and what is stored is exactly what it received: never "told failed, stored complete". A
client following the same reply from the other instance gets an `error` event that carries
an `id:` (the last one it has); once Redis is back (empty: no persistence), resuming from
that id on the other instance continues without a gap to the same final reply.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.chat.streams import new_conversation, sign_up, stored_reply
from tests.e2e.faults.raw_sse import Reading, events_url, read_sse, send_url
from tests.integration.usage.private_redis import private_redis
from tests.support.backends import Backend
from tests.support.server import run_server

pytestmark = pytest.mark.e2e

PROMPT = " ".join(f"w{i}" for i in range(120))


async def resume_when_back(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], after: str
) -> Reading:
    """Resume from ``after`` as a client retrying would: refusals (503 while Redis
    reconnects, 404 until the runner restored the log) are retried for a while."""
    deadline = time.monotonic() + 30
    while True:
        reading = Reading()
        await read_sse(http, "GET", url, reading, headers={**headers, "Last-Event-ID": after})
        if reading.status == 200 or time.monotonic() > deadline:
            return reading
        await asyncio.sleep(0.2)


async def test_redis_dying_mid_stream_loses_nothing_and_converges(
    backend: Backend, tmp_path: Path
) -> None:
    if not backend.uses_redis:
        pytest.skip("Redis is the shared generation log: the postgres backend only")
    with private_redis(tmp_path) as redis:
        env = {
            **backend.env,
            "PARLEY_REDIS_URL": redis.url,
            "PARLEY_FAKE_GAP_MS": "40",
            "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
        }
        with run_server(env, tmp_path) as a, run_server(env, tmp_path) as b:
            async with (
                httpx.AsyncClient(base_url=a.base_url, timeout=30) as on_a,
                httpx.AsyncClient(base_url=b.base_url, timeout=30) as on_b,
            ):
                me = await sign_up(on_a)
                conversation = await new_conversation(on_a, me)
                attached = Reading()
                body = {"content": PROMPT, "stream": True}
                streaming = asyncio.create_task(
                    read_sse(on_a, "POST", send_url(conversation), attached, json=body, headers=me)
                )
                await attached.wait_for(1)
                generation = attached.events[0].data["generation_id"]
                reply_id = attached.events[0].data["assistant_message_id"]
                url = events_url(conversation, generation)
                follower = Reading()
                following = asyncio.create_task(read_sse(on_b, "GET", url, follower, headers=me))
                await follower.wait_for(6)
                redis.kill()
                killed_at = len(attached.events)
                await asyncio.wait_for(asyncio.gather(streaming, following), 60)

                # The attached client got the whole reply, past the moment Redis died.
                assert attached.final is not None and attached.final.kind == "done"
                assert len(attached.events) > killed_at + 20
                assert [e.id for e in attached.events] == [
                    str(i) for i in range(1, len(attached.events) + 1)
                ]
                assert attached.text == "Echo: " + PROMPT
                done = attached.final.data["message"]
                assert (done["status"], done["content"]) == ("complete", attached.text)

                # The follower on B was told the log is unreachable, with an id to resume from.
                broken = follower.events[-1]
                assert broken.kind == "error", follower.events[-3:]
                assert broken.data["code"] == "GENERATION_LOG_UNAVAILABLE"
                assert broken.id is not None and broken.id == follower.events[-2].id
                assert all(e.id is not None for e in follower.events)

                redis.start()  # back, and empty
                rest = await resume_when_back(on_b, url, me, broken.id)
                assert rest.status == 200, rest.events
                seen = [e for e in follower.events if e.kind != "error"] + rest.events
                assert [e.id for e in seen] == [str(i) for i in range(1, len(seen) + 1)]
                assert rest.final is not None and rest.final.kind == "done"
                assert "".join(e.data["content"] for e in seen if e.kind == "delta") == (
                    attached.text
                )

                stored = await stored_reply(on_b, me, conversation, reply_id)
            assert (stored["status"], stored["content"]) == ("complete", attached.text)
            for server in (a, b):
                assert "Traceback" not in server.logs()
            assert "generation_log_fallback" in a.logs()
            assert "generation_log_restored" in a.logs()
