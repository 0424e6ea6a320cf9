"""A message and its life cycle: an assistant reply starts ``streaming`` and ends exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.errors import Conflict, InvalidInput, NotFound
from domain.grounding import SourceResult


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class MessageStatus(StrEnum):
    STREAMING = "streaming"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    FAILED = "failed"


# The status only moves forward: a finished message is never reopened or finished twice.
TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.STREAMING: frozenset(
        {MessageStatus.COMPLETE, MessageStatus.CANCELLED, MessageStatus.FAILED}
    ),
    MessageStatus.COMPLETE: frozenset(),
    MessageStatus.CANCELLED: frozenset(),
    MessageStatus.FAILED: frozenset(),
}

INTERRUPTED = "INTERRUPTED"
"""``error_code`` of a reply whose process stopped (crash or shutdown) before it finished."""


class InvalidMessageTransition(Conflict):
    code = "MESSAGE_ALREADY_FINISHED"
    title = "Message already finished"


class MessageTooLong(InvalidInput):
    code = "MESSAGE_TOO_LONG"
    title = "Message too long"


class EmptyMessage(InvalidInput):
    code = "MESSAGE_EMPTY"
    title = "Message is empty"


class GenerationNotFound(NotFound):
    """Unknown, expired, or someone else's generation: all look the same (never 403)."""

    code = "GENERATION_NOT_FOUND"
    title = "Generation not found"


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Message:
    id: UUID
    conversation_id: UUID
    role: Role
    content: str
    status: MessageStatus
    created_at: datetime
    model: str | None = None
    usage: TokenUsage | None = None
    cost_usd: Decimal = field(default_factory=Decimal)
    error_code: str | None = None
    generation_id: UUID | None = None
    position: int = 0
    context: list[SourceResult] | None = None
    """A grounded reply: how each context source fared and the items it gave."""

    @property
    def is_finished(self) -> bool:
        return self.status is not MessageStatus.STREAMING

    def complete(self, content: str, usage: TokenUsage, cost_usd: Decimal) -> None:
        self._move_to(MessageStatus.COMPLETE)
        self.content = content
        self.usage = usage
        self.cost_usd = cost_usd

    def cancel(self, partial: str, usage: TokenUsage | None, cost_usd: Decimal) -> None:
        """A cancelled reply keeps the text streamed so far (and what it cost)."""
        self._move_to(MessageStatus.CANCELLED)
        self.content = partial
        self.usage = usage
        self.cost_usd = cost_usd

    def fail(self, partial: str, error_code: str) -> None:
        self._move_to(MessageStatus.FAILED)
        self.content = partial
        self.error_code = error_code

    def _move_to(self, target: MessageStatus) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidMessageTransition(
                f"message {self.id} is {self.status.value}; it cannot become {target.value}"
            )
        self.status = target


def user_message(
    *, id: UUID, conversation_id: UUID, content: str, now: datetime, position: int
) -> Message:
    return Message(
        id=id,
        conversation_id=conversation_id,
        role=Role.USER,
        content=content,
        status=MessageStatus.COMPLETE,
        created_at=now,
        position=position,
    )


def pending_reply(
    *,
    id: UUID,
    conversation_id: UUID,
    model: str,
    generation_id: UUID,
    now: datetime,
    position: int,
) -> Message:
    return Message(
        id=id,
        conversation_id=conversation_id,
        role=Role.ASSISTANT,
        content="",
        status=MessageStatus.STREAMING,
        created_at=now,
        model=model,
        generation_id=generation_id,
        position=position,
    )


def check_content(content: str, max_chars: int) -> None:
    """A message is neither blank nor longer than the configured limit."""
    if not content.strip():
        raise EmptyMessage("the message has no content")
    if len(content) > max_chars:
        raise MessageTooLong(
            f"the message has {len(content)} characters; the limit is {max_chars}",
            details={"limit": max_chars, "length": len(content)},
        )
