"""What one generation needs to run, and the handle that stops it early."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from application.ports.llm import ChatMessage, Usage
from application.ports.spend_guard import SpendTicket
from domain.catalog import ModelSpec
from domain.grounding import SourceResult
from domain.messages import Message

StopReason = Literal["cancel", "shutdown"]


@dataclass(frozen=True, slots=True)
class GenerationJob:
    generation_id: UUID
    owner_id: UUID
    conversation_id: UUID
    user_message: Message
    reply: Message
    spec: ModelSpec
    prompt: tuple[ChatMessage, ...]
    prompt_tokens: int
    """Estimated by the tokenizer; used when the provider reports no usage."""
    max_tokens: int
    temperature: float | None = None
    spend: SpendTicket | None = None
    """The quota reservation, settled once the reply is stored."""
    context_sources: tuple[str, ...] = ()
    """Asked before the model is called; their items go into the prompt as data."""


@dataclass(slots=True)
class GenerationControl:
    """Progress of one running generation, and how to stop it.

    Stopping cancels the upstream read only while the generation is waiting on the
    provider; while it is writing a delta to the log it finishes that write first. So every
    delta is either both logged and kept for the stored text, or neither.
    """

    parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    model_id: str | None = None
    stop_reason: StopReason | None = None
    awaiting_upstream: bool = False
    completed: bool = False
    """The provider finished the reply (a late stop request no longer matters)."""
    log_broken: bool = False
    consumer: asyncio.Task[None] | None = None
    context: list[SourceResult] | None = None
    """How each context source fared (grounded turns only)."""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def stop(self, reason: StopReason) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.awaiting_upstream and self.consumer is not None:
            self.consumer.cancel()
