"""CompleteChat: a stateless chat completion for the OpenAI-compatible gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from application.identity.principal import Principal
from application.llm.router import LLMRouter, RoutedChunk, RoutedCompletion
from application.ports.llm import ChatMessage, ProviderProtocolError
from domain.catalog import ModelSpec
from domain.errors import InvalidInput

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class ContextLengthExceeded(InvalidInput):
    code = "CONTEXT_LENGTH_EXCEEDED"
    title = "The messages exceed the model's context window"


class UnsupportedParameter(InvalidInput):
    code = "UNSUPPORTED_PARAMETER"
    title = "A request parameter is not supported"


@dataclass(frozen=True, slots=True)
class GatewayLimits:
    server_max_tokens: int = 1024
    max_messages: int = 512


@dataclass(frozen=True, slots=True)
class CompleteChatCommand:
    principal: Principal
    model: str | None
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = False
    n: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChatReply:
    """Exactly one of ``completion`` (non-stream) or ``chunks`` (stream) is set."""

    spec: ModelSpec
    completion: RoutedCompletion | None = None
    chunks: AsyncIterator[RoutedChunk] | None = None


class CompleteChat:
    """Business rules:
    - the model must be configured (else MODEL_NOT_FOUND); nothing is stored;
    - 1..``max_messages`` messages with roles system/developer/user/assistant;
    - the prompt (estimated at 4 characters a token) must fit the model's context window;
    - one choice only (``n`` > 1 is refused); ``max_tokens`` is bounded by the model's and
      the server's caps; extra parameters reach upstream only if the model allows them;
    - a stream's first chunk is awaited here, so a failure before any output (after the
      router's retries and fallbacks) is an error of the call, not a broken stream.
    """

    def __init__(self, router: LLMRouter, limits: GatewayLimits) -> None:
        self._router = router
        self._limits = limits

    async def __call__(self, command: CompleteChatCommand) -> ChatReply:
        spec = self._router.resolve(command.model)
        messages = self._validated(command, spec)
        max_tokens = spec.bound_max_tokens(command.max_tokens, self._limits.server_max_tokens)
        options: dict[str, Any] = {
            "max_tokens": max_tokens,
            "temperature": command.temperature,
            "extra": command.extra,
        }
        if not command.stream:
            routed = await self._router.complete(spec, messages, **options)
            return ChatReply(spec, completion=routed)
        chunks = self._router.stream(spec, messages, **options)
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            raise ProviderProtocolError("the provider sent an empty stream") from None
        return ChatReply(spec, chunks=_prepend(first, chunks))

    def _validated(self, command: CompleteChatCommand, spec: ModelSpec) -> list[ChatMessage]:
        if command.n != 1:
            raise UnsupportedParameter("n must be 1", details={"param": "n"})
        if not command.messages:
            raise InvalidInput("messages must not be empty", details={"param": "messages"})
        if len(command.messages) > self._limits.max_messages:
            raise InvalidInput(
                f"at most {self._limits.max_messages} messages are accepted",
                details={"param": "messages"},
            )
        messages = []
        chars = 0
        for m in command.messages:
            role = ROLES.get(m.role)
            if role is None:
                raise InvalidInput(f"unsupported role {m.role[:20]!r}", details={"param": "role"})
            chars += len(m.content)
            messages.append(ChatMessage(role, m.content) if role != m.role else m)
        if chars // 4 + 4 * len(messages) > spec.context_window:
            raise ContextLengthExceeded(
                f"the messages exceed the {spec.context_window}-token context window of "
                f"{spec.id!r}",
                details={"param": "messages"},
            )
        return messages


async def _prepend(
    first: RoutedChunk, rest: AsyncIterator[RoutedChunk]
) -> AsyncIterator[RoutedChunk]:
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        closer = getattr(rest, "aclose", None)
        if closer is not None:  # stop the upstream when the client goes away
            await closer()
