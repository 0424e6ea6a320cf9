"""Admission at the HTTP entry: a bounded number of requests authenticate at once.

A burst (a thousand streams opened in the same second) used to reach authentication all
at once: a thousand revocation checks and rate-limit hits in flight on one event loop,
which then lagged past the store's socket timeout, so requests with valid credentials
failed with ``TOKEN_STORE_UNAVAILABLE``. Here a request holds one of ``max_active``
slots from its arrival until it is authenticated and limited (``release_admission``
from the request hook), or until its response starts or it ends, whichever comes first; the
next ones wait in arrival order, up to ``max_waiting`` of them and each for at most
``max_wait_s``. Past either bound the request is refused at once with 503
``SERVER_BUSY`` and ``Retry-After``, before anything of it ran, so a client knows to
retry. Waiting on the model never holds a slot: a slow upstream cannot starve the gate.
The queue is the one turns are admitted to storage by (``TurnAdmission``), its own instance.

Health, metrics and the docs are never queued (probes must see a busy server as alive).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import msgspec
import structlog
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from application.admission import ServerBusy, TurnAdmission
from entrypoints.http.middleware import scope_state
from entrypoints.http.openai_errors import error_body, openai_code
from entrypoints.http.problems import PROBLEM_JSON, problem_body
from entrypoints.http.rate_limit_guard import EXEMPT_PREFIXES

RELEASE_STATE = "admission_release"
"""Key in ``scope["state"]`` of the request's slot (see ``release_admission``)."""
RETRY_AFTER_S = 1

log = structlog.get_logger("parley.http.admission")


class AdmissionMiddleware:
    """Raw ASGI, inside the request-context middleware (the refusal has a request id)."""

    def __init__(self, app: ASGIApp, gate: TurnAdmission) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        slot = _Slot(self.gate.slot())
        try:
            await slot.enter()
        except ServerBusy as busy:
            await _refuse(scope, send, busy, self.gate.waiting)
            return
        scope.setdefault("state", {})[RELEASE_STATE] = slot

        async def send_started(message: Message) -> None:
            if message["type"] == "http.response.start":
                await slot.release()
            await send(message)

        try:
            await self.app(scope, receive, send_started)
        finally:
            await slot.release()


async def release_admission(scope: Any) -> None:
    """Give the request's slot back (it is authenticated and limited); idempotent, and a
    no-op for requests that never held one."""
    slot = scope_state(scope).get(RELEASE_STATE)
    if slot is not None:
        await slot.release()


class _Slot:
    """A held slot that can be given back before the request ends, exactly once."""

    __slots__ = ("_held", "_slot")

    def __init__(self, slot: AbstractAsyncContextManager[None]) -> None:
        self._slot = slot
        self._held = False

    async def enter(self) -> None:
        await self._slot.__aenter__()
        self._held = True

    async def release(self) -> None:
        if self._held:
            self._held = False
            await self._slot.__aexit__(None, None, None)


async def _refuse(scope: Scope, send: Send, busy: ServerBusy, waiting: int) -> None:
    log.warning("request_shed", code=busy.code, path=scope["path"], waiting=waiting)
    if scope["path"].startswith("/v1/"):
        body, media_type = error_body(503, busy.detail, openai_code(busy)), b"application/json"
    else:
        request_id = scope_state(scope).get("request_id")
        problem = problem_body(503, busy.code, busy.detail, title=busy.title, request_id=request_id)
        body, media_type = msgspec.json.encode(problem), PROBLEM_JSON.encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", media_type),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_S).encode()),
    ]
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 503,
        "headers": headers,
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
