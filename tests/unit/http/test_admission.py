"""The entry queue: a bounded number of requests authenticate at once, the rest queue
briefly or are shed with 503 SERVER_BUSY before anything of them runs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from application.admission import TurnAdmission
from entrypoints.http.admission import AdmissionMiddleware, release_admission


class _App:
    """An ASGI app that waits for ``proceed`` before answering, after an optional
    authentication step (``release_admission``) that frees the entry slot early."""

    def __init__(self, authenticate_first: bool = False) -> None:
        self.proceed = asyncio.Event()
        self.entered = 0
        self._authenticate_first = authenticate_first

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered += 1
        if self._authenticate_first:
            await release_admission(scope)
        await self.proceed.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _call(app: Any, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "path": path, "method": "POST", "headers": [], "state": {}}
    await app(scope, receive, send)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


async def test_a_request_past_the_queue_is_shed_with_server_busy_and_retry_after() -> None:
    inner = _App()
    app = AdmissionMiddleware(inner, TurnAdmission(max_active=1, max_waiting=0, max_wait_s=5))
    first = asyncio.create_task(_call(app, "/api/v1/conversations"))
    await asyncio.sleep(0)
    status, headers, body = await _call(app, "/api/v1/conversations")
    assert status == 503
    assert headers[b"retry-after"] == b"1"
    assert headers[b"content-type"] == b"application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "SERVER_BUSY" and problem["status"] == 503
    assert inner.entered == 1  # nothing of the shed request ran
    inner.proceed.set()
    assert (await first)[0] == 200


async def test_a_shed_gateway_request_gets_the_openai_error_shape() -> None:
    inner = _App()
    app = AdmissionMiddleware(inner, TurnAdmission(max_active=1, max_waiting=0, max_wait_s=5))
    first = asyncio.create_task(_call(app, "/v1/chat/completions"))
    await asyncio.sleep(0)
    status, _, body = await _call(app, "/v1/chat/completions")
    assert status == 503
    assert json.loads(body)["error"]["code"] == "server_busy"
    inner.proceed.set()
    await first


async def test_a_queued_request_enters_when_the_one_before_is_authenticated() -> None:
    inner = _App(authenticate_first=True)
    app = AdmissionMiddleware(inner, TurnAdmission(max_active=1, max_waiting=1, max_wait_s=5))
    first = asyncio.create_task(_call(app, "/api/v1/me"))
    second = asyncio.create_task(_call(app, "/api/v1/me"))
    for _ in range(5):
        await asyncio.sleep(0)
    # The first still waits on its work, but holds no slot: the second is in as well.
    assert inner.entered == 2
    inner.proceed.set()
    assert [(await first)[0], (await second)[0]] == [200, 200]


async def test_a_queued_request_that_waits_too_long_is_shed() -> None:
    inner = _App()
    app = AdmissionMiddleware(inner, TurnAdmission(max_active=1, max_waiting=5, max_wait_s=0.05))
    first = asyncio.create_task(_call(app, "/api/v1/me"))
    await asyncio.sleep(0)
    assert (await _call(app, "/api/v1/me"))[0] == 503
    inner.proceed.set()
    await first
    assert (await _call(app, "/api/v1/me"))[0] == 200  # the slot came back


async def test_health_probes_never_queue() -> None:
    inner = _App()
    app = AdmissionMiddleware(inner, TurnAdmission(max_active=1, max_waiting=0, max_wait_s=5))
    first = asyncio.create_task(_call(app, "/api/v1/me"))
    await asyncio.sleep(0)
    probe = asyncio.create_task(_call(app, "/health/live"))
    await asyncio.sleep(0)
    assert inner.entered == 2
    inner.proceed.set()
    assert [(await first)[0], (await probe)[0]] == [200, 200]
