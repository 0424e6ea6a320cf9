"""The seams of a chat turn, for features that join it without changing it.

- ``PromptStep``: runs in the generation, before the prompt goes upstream (context sources
  add quoted context here). A step that raises is logged and skipped: it degrades the turn,
  never fails it.
- ``TurnListener``: told once a reply is stored and its terminal event logged (publishing
  ``message.completed``, scheduling a title job after the first exchange, indexing). A
  listener that raises is logged; it never fails or delays the reply.

Both are plain protocols wired as ordered tuples in the composition root; the defaults are
empty, so chat runs the same with none of them.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from application.ports.llm import ChatMessage
from domain.catalog import ModelSpec
from domain.grounding import SourceResult
from domain.messages import Message


@dataclass(frozen=True, slots=True)
class PromptDraft:
    """What is about to go upstream; a step returns it changed (``dataclasses.replace``)."""

    owner_id: UUID
    conversation_id: UUID
    user_message: Message
    spec: ModelSpec
    prompt: tuple[ChatMessage, ...]
    prompt_tokens: int
    max_tokens: int
    context_sources: tuple[str, ...] = ()
    """The conversation's context sources (the grounding step asks them)."""
    context: list[SourceResult] | None = None
    """How each context source fared; stored on the reply (None: an ungrounded turn)."""


@dataclass(frozen=True, slots=True)
class FinishedTurn:
    owner_id: UUID
    conversation_id: UUID
    user_message: Message
    reply: Message
    """As stored: ``complete``, ``cancelled`` or ``failed``."""
    stored: bool = True
    """False when the database stayed unavailable: the reply exists only in the log."""

    @property
    def first_exchange(self) -> bool:
        """The conversation's first user message and its reply (titles are made from it)."""
        return self.user_message.position == 0


class PromptStep(Protocol):
    @abstractmethod
    async def before_prompt(self, draft: PromptDraft) -> PromptDraft: ...


class TurnListener(Protocol):
    @abstractmethod
    async def turn_finished(self, turn: FinishedTurn) -> None: ...


@dataclass(frozen=True, slots=True)
class TurnSeams:
    """The steps and listeners a chat turn runs, in order. A feature adds its own by
    decorating this in its provider: ``seams.with_listener(MyListener(...))``."""

    prompt_steps: tuple[PromptStep, ...] = ()
    listeners: tuple[TurnListener, ...] = ()

    def with_prompt_step(self, step: PromptStep) -> TurnSeams:
        return TurnSeams((*self.prompt_steps, step), self.listeners)

    def with_listener(self, listener: TurnListener) -> TurnSeams:
        return TurnSeams(self.prompt_steps, (*self.listeners, listener))
