"""Fit a conversation into a model's context window: the system prompt and the newest turns.

Older turns are dropped first and never out of order: the prompt is always the system prompt
followed by an unbroken run of the most recent history, ending with the new user message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.errors import InvalidInput


class ContextTooLong(InvalidInput):
    """Even the system prompt plus the new message alone exceed the model's window."""

    code = "CONTEXT_WINDOW_EXCEEDED"
    title = "Message does not fit the model's context window"


class TokenCounter(Protocol):
    def count_message(self, role: str, content: str) -> int:
        """Tokens one message costs in a prompt, framing included."""
        ...

    def count_reply_priming(self) -> int:
        """Tokens every prompt costs on top of its messages (the reply's start marker)."""
        ...


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class FittedPrompt:
    turns: list[Turn]
    prompt_tokens: int
    dropped: int


def fit_all(
    *, turns: Sequence[Turn], context_window: int, max_tokens: int, counter: TokenCounter
) -> FittedPrompt:
    """Every turn kept, as the OpenAI-compatible gateway sends them: the same budget rule as
    ``fit_context`` (prompt, reply priming and ``max_tokens`` within the window), nothing
    dropped; too long is the same ``ContextTooLong``."""
    budget = _budget(context_window, max_tokens, counter)
    used = sum(counter.count_message(t.role, t.content) for t in turns)
    if used > budget:
        raise ContextTooLong(
            f"the messages (about {used} tokens) and the reply's {max_tokens} tokens exceed "
            f"the model's {context_window}-token context window",
            details={"param": "messages", "budget_tokens": max(budget, 0), "needed_tokens": used},
        )
    return FittedPrompt(list(turns), used + counter.count_reply_priming(), 0)


def _budget(context_window: int, max_tokens: int, counter: TokenCounter) -> int:
    """Tokens the prompt's messages may use: the window less the reply and its priming."""
    return context_window - max_tokens - counter.count_reply_priming()


def fit_context(
    *,
    system_prompt: str | None,
    history: Sequence[Turn],
    new_message: Turn,
    context_window: int,
    max_tokens: int,
    counter: TokenCounter,
) -> FittedPrompt:
    """``history`` is oldest first and excludes ``new_message``; the reply gets ``max_tokens``."""
    budget = _budget(context_window, max_tokens, counter)
    head = [Turn("system", system_prompt)] if system_prompt else []
    used = sum(counter.count_message(t.role, t.content) for t in [*head, new_message])
    if used > budget:
        raise ContextTooLong(
            "the message (with the system prompt) does not fit the model's context window",
            details={"budget_tokens": max(budget, 0), "needed_tokens": used},
        )
    kept: list[Turn] = []
    for turn in reversed(history):
        cost = counter.count_message(turn.role, turn.content)
        if used + cost > budget:
            break
        used += cost
        kept.append(turn)
    kept.reverse()
    return FittedPrompt(
        turns=[*head, *kept, new_message],
        prompt_tokens=used + counter.count_reply_priming(),
        dropped=len(history) - len(kept),
    )
