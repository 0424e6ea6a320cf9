"""The fake LLM: deterministic, streams word-sized tokens with configurable delays.

It serves demos, tests and benchmarks, so it must cost next to nothing per token: no
sleeping when a delay is zero, no per-token allocation beyond the piece itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from application.ports.llm import (
    ChatMessage,
    Chunk,
    Completion,
    CompletionRequest,
    LLMProvider,
    ProviderUnavailable,
    Usage,
)

_PIECE = re.compile(r"\s*\S+")
_EMPTY_PROMPT_REPLY = "Hello! I am Parley's fake model."


@dataclass(frozen=True, slots=True)
class FakeBehaviour:
    """How the fake answers; ``fail_after`` = -1 never fails, 0 fails before any token."""

    ttft_ms: int = 0
    gap_ms: int = 0
    fail_after: int = -1
    reply: str = ""


def reply_for(messages: Sequence[ChatMessage], fixed_reply: str = "") -> str:
    """The deterministic reply: the fixed one if configured, else an echo of the last
    user message (so tests can predict every token)."""
    if fixed_reply:
        return fixed_reply
    for message in reversed(messages):
        if message.role == "user" and message.content.strip():
            return "Echo: " + message.content.strip()
    return _EMPTY_PROMPT_REPLY


def estimate_prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    """About four characters per token, plus the per-message framing OpenAI counts."""
    return sum(4 + (len(m.content) + 3) // 4 for m in messages) + 2


def split_tokens(text: str) -> list[str]:
    """Word-ish pieces whose concatenation is exactly ``text``."""
    pieces: list[str] = _PIECE.findall(text)
    consumed = sum(map(len, pieces))
    if consumed < len(text):  # trailing whitespace belongs to the last piece
        if pieces:
            pieces[-1] += text[consumed:]
        else:
            pieces = [text]
    return pieces


class FakeLLMProvider(LLMProvider):
    """An ``LLMProvider`` that never leaves the process."""

    def __init__(
        self, name: str = "fake", behaviour: FakeBehaviour | None = None, models: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.behaviour = behaviour or FakeBehaviour()
        self._models = list(models)
        self.calls = 0

    async def complete(self, request: CompletionRequest) -> Completion:
        parts: list[str] = []
        finish = "stop"
        usage: Usage | None = None
        async for chunk in self.stream(request):
            parts.append(chunk.delta)
            if chunk.finish_reason:
                finish = chunk.finish_reason
                usage = chunk.usage
        return Completion(content="".join(parts), finish_reason=finish, usage=usage)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        self.calls += 1
        b = self.behaviour
        pieces = split_tokens(reply_for(request.messages, b.reply))
        finish = "stop"
        if len(pieces) > request.max_tokens:
            pieces, finish = pieces[: request.max_tokens], "length"
        if b.ttft_ms:
            await asyncio.sleep(b.ttft_ms / 1000)
        gap = b.gap_ms / 1000
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            if index == b.fail_after:
                raise ProviderUnavailable(f"fake provider {self.name!r} failed as configured")
            if gap and index:
                await asyncio.sleep(gap)
            if index == last:
                usage = Usage(estimate_prompt_tokens(request.messages), len(pieces))
                yield Chunk(delta=piece, finish_reason=finish, usage=usage)
            else:
                yield Chunk(delta=piece)
        if not pieces:
            usage = Usage(estimate_prompt_tokens(request.messages), 0)
            yield Chunk(finish_reason=finish, usage=usage)

    async def models(self) -> list[str]:
        return list(self._models)
