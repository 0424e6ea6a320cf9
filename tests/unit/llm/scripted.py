"""A typed fake LLMProvider that plays a script of outcomes, one per call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from application.ports.llm import (
    Chunk,
    Completion,
    CompletionRequest,
    LLMProvider,
    Usage,
)
from domain.errors import DomainError


@dataclass
class Outcome:
    """Yield ``pieces`` (after ``stall_before_s``), then raise ``error`` if set, or stall
    ``stall_after_s`` seconds before finishing."""

    pieces: tuple[str, ...] = ("ok",)
    error: DomainError | Exception | None = None
    stall_before_s: float = 0.0
    stall_after_s: float = 0.0


def ok(*pieces: str) -> Outcome:
    return Outcome(pieces=pieces or ("ok",))


def fails(error: DomainError | Exception, after: tuple[str, ...] = ()) -> Outcome:
    return Outcome(pieces=after, error=error)


@dataclass
class ScriptedProvider(LLMProvider):
    name: str
    script: list[Outcome] = field(default_factory=list)
    requests: list[CompletionRequest] = field(default_factory=list)
    closed: int = 0

    def _next_outcome(self, request: CompletionRequest) -> Outcome:
        self.requests.append(request)
        return self.script.pop(0) if self.script else ok()

    @property
    def calls(self) -> int:
        return len(self.requests)

    async def complete(self, request: CompletionRequest) -> Completion:
        outcome = self._next_outcome(request)
        if outcome.stall_before_s:
            await asyncio.sleep(outcome.stall_before_s)
        if outcome.error is not None:
            raise outcome.error
        text = "".join(outcome.pieces)
        return Completion(text, "stop", Usage(3, len(outcome.pieces)))

    async def stream(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        outcome = self._next_outcome(request)
        try:
            if outcome.stall_before_s:
                await asyncio.sleep(outcome.stall_before_s)
            for index, piece in enumerate(outcome.pieces):
                last = index == len(outcome.pieces) - 1 and outcome.error is None
                if last and outcome.stall_after_s:
                    await asyncio.sleep(outcome.stall_after_s)
                yield Chunk(piece, "stop" if last else None, Usage(3, index + 1) if last else None)
            if outcome.error is not None:
                raise outcome.error
        finally:
            self.closed += 1

    async def models(self) -> list[str]:
        return []
