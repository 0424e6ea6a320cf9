"""Server → client frames. Every stream frame names the client's ``request_id``, and the
``generation_id`` and ``event_id`` a client needs to resume after a reconnect."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import Struct

from application.chat.send_message import SentMessage
from application.chat.views import message_data
from application.identity.principal import Principal
from application.ports.generation_log import GenerationEvent
from domain.errors import DomainError, TooManyRequests

RequestKey = str | int


class Ready(Struct, tag="ready", tag_field="type"):
    """Sent once the socket is authenticated (and again after a re-``auth``)."""

    user_id: str
    expires_at: str | None


class Ack(Struct, tag="ack", tag_field="type"):
    request_id: RequestKey | None
    conversation_id: str
    generation_id: str
    user_message: dict[str, Any]
    assistant_message_id: str
    event_id: str | None


class Delta(Struct, tag="delta", tag_field="type"):
    request_id: RequestKey | None
    content: str
    generation_id: str
    event_id: str


class Done(Struct, tag="done", tag_field="type"):
    request_id: RequestKey | None
    message: dict[str, Any]
    generation_id: str
    event_id: str


class ErrorFrame(Struct, tag="error", tag_field="type", omit_defaults=True):
    code: str
    title: str
    detail: str
    request_id: RequestKey | None = None
    details: Any = None
    retry_after_s: float | None = None
    generation_id: str | None = None
    event_id: str | None = None
    message: dict[str, Any] | None = None
    """A failed or interrupted generation's stored reply."""


class Pong(Struct, tag="pong", tag_field="type", omit_defaults=True):
    timestamp: str
    request_id: RequestKey | None = None


ServerFrame = Ready | Ack | Delta | Done | ErrorFrame | Pong

_ENCODER = msgspec.json.Encoder()


def encode(frame: ServerFrame) -> str:
    return _ENCODER.encode(frame).decode()


def event_text(frame_type: str, data: dict[str, Any]) -> str:
    """A pushed event as a frame: ``{"type": ..., **data}`` (``notification``,
    ``message.completed``, ``job.updated``), encoded once for every socket it goes to."""
    return _ENCODER.encode({**data, "type": frame_type}).decode()


def ready_frame(principal: Principal) -> Ready:
    expires = principal.expires_at
    return Ready(
        user_id=str(principal.user_id),
        expires_at=expires.isoformat().replace("+00:00", "Z") if expires else None,
    )


def ack_frame(key: RequestKey, sent: SentMessage) -> Ack:
    return Ack(
        request_id=key,
        conversation_id=str(sent.conversation.id),
        generation_id=str(sent.generation_id),
        user_message=message_data(sent.user_message),
        assistant_message_id=str(sent.assistant_message.id),
        event_id=sent.start_event_id,
    )


def utc_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def error_frame(error: DomainError, request_id: RequestKey | None = None) -> ErrorFrame:
    """The WebSocket face of the one error table: the same stable ``code`` as HTTP."""
    retry = error.retry_after_s if isinstance(error, TooManyRequests) else None
    return ErrorFrame(
        code=error.code,
        title=error.title,
        detail=error.detail,
        request_id=request_id,
        details=error.details,
        retry_after_s=retry,
    )


def event_frame(
    event: GenerationEvent, request_id: RequestKey | None, generation_id: str
) -> ServerFrame:
    """A generation-log event as the frame a client sees, unchanged in substance."""
    data = event.data
    if event.kind == "delta":
        return Delta(request_id, data["content"], generation_id, event.id)
    if event.kind == "done":
        return Done(request_id, data["message"], generation_id, event.id)
    if event.kind == "start":
        return Ack(
            request_id=request_id,
            conversation_id=data["conversation_id"],
            generation_id=generation_id,
            user_message=data["user_message"],
            assistant_message_id=data["assistant_message_id"],
            event_id=event.id,
        )
    return ErrorFrame(
        code=data.get("code", "INTERNAL_ERROR"),
        title=data.get("title", "Generation failed"),
        detail=data.get("detail", ""),
        request_id=request_id,
        generation_id=generation_id,
        event_id=event.id,
        message=data.get("message"),
    )
