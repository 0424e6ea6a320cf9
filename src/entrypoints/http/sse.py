"""Server-Sent Events framing for generation logs.

Model output is data: every ``data:`` line is one JSON document, and JSON escapes
CR and LF inside strings, so no content can end a line, start a field, or forge an event.
Event names and ids come from the log (fixed words and decimal numbers), never from content.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import structlog
from litestar.response import Stream

from application.ports.generation_log import GenerationEvent
from domain.errors import DomainError, kind_named
from entrypoints.http.problems import STATUS_BY_KIND, problem_body, status_for

KEEPALIVE = b": keep-alive\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_encode = msgspec.json.Encoder().encode

log = structlog.get_logger("parley.sse")


def frame(kind: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\nevent: {kind}\n" if event_id else f"event: {kind}\n"
    return head.encode() + b"data: " + _encode(data) + b"\n\n"


def event_frame(event: GenerationEvent) -> bytes:
    if event.kind != "error":
        return frame(event.kind, event.data, event.id)
    return frame("error", _problem_from_event(event.data), event.id)


def error_frame(error: DomainError, last_id: str) -> bytes:
    """A failure of the transport itself (log unreachable, events expired). Its id repeats
    the last event id the client has (``0``: none yet), so a client resuming with it as
    ``Last-Event-ID`` gets exactly the events it missed."""
    body = _problem(status_for(error), error.code, error.detail, error.title)
    return frame("error", body, last_id)


async def sse_frames(
    events: AsyncIterator[GenerationEvent], keepalive_s: float, after: str | None = None
) -> AsyncIterator[bytes]:
    """Frames for ``events``, with a keep-alive comment whenever nothing came for a while.

    The next event is awaited in its own task so a keep-alive never interrupts a read.
    If the client goes away, this is cancelled: only the reading stops, never the generation.
    """
    pending: asyncio.Future[GenerationEvent] | None = None
    last_id = after or "0"
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=keepalive_s)
            if not done:
                yield KEEPALIVE
                continue
            finished, pending = pending, None
            try:
                event = finished.result()
            except StopAsyncIteration:
                return
            except DomainError as exc:
                # The stream breaks here (its log is unreachable or expired): the client
                # gets an error event; operators get one line, for each broken stream.
                log.warning("sse_stream_broken", code=exc.code, cause=_cause(exc))
                yield error_frame(exc, last_id)
                return
            except Exception as exc:
                log.error("sse_stream_failed", error_type=type(exc).__name__, exc_info=exc)
                body = _problem(500, "INTERNAL_ERROR", "the stream failed", None)
                yield frame("error", body, last_id)
                return
            yield event_frame(event)
            last_id = event.id or last_id
            if event.is_terminal:
                return
    finally:
        if pending is not None:
            pending.cancel()
        closer = getattr(events, "aclose", None)
        if closer is not None:
            with contextlib.suppress(BaseException):
                await closer()


def sse_response(
    events: AsyncIterator[GenerationEvent],
    keepalive_s: float,
    status_code: int = 200,
    *,
    after: str | None = None,
) -> Stream:
    """``after``: the event id the client resumes from (what an early error repeats)."""
    return Stream(
        sse_frames(events, keepalive_s, after),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
        status_code=status_code,
    )


def _problem_from_event(data: dict[str, Any]) -> dict[str, Any]:
    kind = kind_named(str(data.get("kind")))
    status = STATUS_BY_KIND.get(kind, 502) if kind is not None else 502
    body = _problem(
        status,
        str(data.get("code", "UPSTREAM_ERROR")),
        str(data.get("detail", "")),
        str(data.get("title") or "") or None,
    )
    if "message" in data:
        body["message"] = data["message"]
    return body


def _cause(exc: BaseException) -> str | None:
    return type(exc.__cause__).__name__ if exc.__cause__ is not None else None


def _problem(status: int, code: str, detail: str, title: str | None) -> dict[str, Any]:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return problem_body(status, code, detail, title=title, request_id=request_id)
