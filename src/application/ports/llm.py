"""The LLM provider port. Adapters translate their failures into the errors below."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.context_window import Turn
from domain.errors import (
    InvalidInput,
    TooManyRequests,
    Unavailable,
    UpstreamError,
    UpstreamTimeout,
)

ChatMessage = Turn
"""One prompt message (role "system" | "user" | "assistant", content): the domain's
``Turn``, so a fitted prompt goes upstream as it is, without a copy per message."""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """What to send upstream. ``model`` is the upstream model name the adapter uses."""

    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    temperature: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One streamed piece: text, and on the last chunk the finish reason and usage."""

    delta: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    content: str
    finish_reason: str
    usage: Usage | None


class LLMProvider(Protocol):
    """One upstream endpoint (fake, OpenAI, Azure, Ollama, vLLM, ...)."""

    name: str

    @abstractmethod
    async def complete(self, request: CompletionRequest) -> Completion: ...

    @abstractmethod
    def stream(self, request: CompletionRequest) -> AsyncIterator[Chunk]: ...

    @abstractmethod
    async def models(self) -> list[str]: ...


class ProviderUnavailable(Unavailable):
    code = "PROVIDER_UNAVAILABLE"
    title = "LLM provider unavailable"


class ProviderRateLimited(TooManyRequests):
    code = "PROVIDER_RATE_LIMITED"
    title = "LLM provider rate limited"


class ProviderBadRequest(InvalidInput):
    code = "PROVIDER_BAD_REQUEST"
    title = "LLM provider rejected the request"


class ProviderTimeout(UpstreamTimeout):
    code = "PROVIDER_TIMEOUT"
    title = "LLM provider timed out"


class ProviderProtocolError(UpstreamError):
    """The provider answered with something that is not a valid completion."""

    code = "PROVIDER_BAD_RESPONSE"
    title = "LLM provider sent an invalid response"
