"""What one generation needs to run: an immutable description of the reply to produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from application.ports.llm import ChatMessage
from domain.catalog import ModelSpec
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
    """The completion budget the quota reservation granted."""
    temperature: float | None = None
    cache_opt_in: bool = False
    """The client asked for the completion cache and waits for the whole reply; served
    from it only at temperature 0 (``CompletionCache.eligible``)."""
    context_sources: tuple[str, ...] = ()
    """Asked before the model is called (by the grounding step); their items go into the
    prompt as data."""
