"""Where a grounded turn's context block goes in the prompt."""

from __future__ import annotations

from application.ports.llm import ChatMessage


def with_context(prompt: tuple[ChatMessage, ...], block: str | None) -> tuple[ChatMessage, ...]:
    """The block as a system message just before the user's new message: the model reads
    it as reference data for this turn, after the conversation's own system prompt."""
    if not block or not prompt:
        return prompt
    return (*prompt[:-1], ChatMessage("system", block), prompt[-1])
