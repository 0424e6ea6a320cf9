"""The events a generation writes to its log; every transport forwards these unchanged."""

from __future__ import annotations

from uuid import UUID

from application.chat.views import message_data
from application.ports.generation_log import GenerationEvent
from domain import errors
from domain.messages import Message


def start_event(
    generation_id: UUID, conversation_id: UUID, user: Message, reply: Message
) -> GenerationEvent:
    return GenerationEvent(
        "start",
        {
            "generation_id": str(generation_id),
            "conversation_id": str(conversation_id),
            "user_message": message_data(user),
            "assistant_message_id": str(reply.id),
        },
    )


def delta_event(content: str) -> GenerationEvent:
    return GenerationEvent("delta", {"content": content})


def done_event(reply: Message) -> GenerationEvent:
    return GenerationEvent("done", {"message": message_data(reply)})


def error_event(error: errors.DomainError, reply: Message | None = None) -> GenerationEvent:
    """``kind`` names the error's family (``UpstreamError``, ``Unavailable``, ...)."""
    data: dict[str, object] = {
        "code": error.code,
        "title": error.title,
        "detail": error.detail,
        "kind": error_kind(error),
    }
    if reply is not None:
        data["message"] = message_data(reply)
    return GenerationEvent("error", data)


def error_kind(error: errors.DomainError) -> str:
    return errors.kind_of(error).__name__


class GenerationInterrupted(errors.Unavailable):
    """The process stopped (shutdown or crash) before the reply finished."""

    code = "INTERRUPTED"
    title = "Generation interrupted"


class GenerationCrashed(errors.UpstreamError):
    """An unexpected failure while generating; details are in the server log only."""

    code = "INTERNAL_ERROR"
    title = "Generation failed"
