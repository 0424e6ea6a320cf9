"""CompleteChat: a stateless chat completion for the OpenAI-compatible gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from application.caching.completion_cache import CompletionCache
from application.gateway.metered_stream import metered_stream, settle_completion
from application.identity.principal import Principal
from application.llm.router import LLMRouter, RoutedChunk, RoutedCompletion
from application.ports.llm import ChatMessage, ProviderProtocolError
from application.ports.spend_guard import SpendGuard, SpendRequest
from application.ports.tokenizer import Tokenizer
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
    cache_opt_in: bool = False
    """The client asked for the response cache (``X-Parley-Cache: on``)."""
    counts_as_message: bool = True
    """False for background work (titles): metered in tokens, not in plan messages."""


@dataclass(frozen=True, slots=True)
class ChatReply:
    """Exactly one of ``completion`` (non-stream) or ``chunks`` (stream) is set."""

    spec: ModelSpec
    prompt_tokens: int
    completion: RoutedCompletion | None = None
    chunks: AsyncIterator[RoutedChunk] | None = None
    cached: bool = False


class CompleteChat:
    """Business rules:
    - the model must be configured (else MODEL_NOT_FOUND) and allowed by the caller's plan;
      nothing is stored in conversations;
    - 1..``max_messages`` messages with roles system/developer/user/assistant, and the
      prompt must fit the model's context window (else CONTEXT_LENGTH_EXCEEDED);
    - one choice only (``n`` > 1 is refused); ``max_tokens`` is bounded by the model's and
      the server's caps, and by the caller's remaining quota; extra parameters reach
      upstream only if the model allows them;
    - quota is reserved before any upstream call (refused: zero upstream calls), settled
      with the real usage of the model that answered, released when nothing was produced;
    - an opted-in, temperature-0, non-stream request is answered from the per-user
      response cache when it can be, which spends nothing;
    - a stream's first chunk is awaited here, so a failure before any output (after the
      router's retries and fallbacks) is an error of the call, not a broken stream.
    """

    def __init__(
        self,
        router: LLMRouter,
        limits: GatewayLimits,
        tokenizer: Tokenizer,
        spending: SpendGuard,
        cache: CompletionCache,
    ) -> None:
        self._router = router
        self._limits = limits
        self._tokenizer = tokenizer
        self._spending = spending
        self._cache = cache

    async def __call__(self, command: CompleteChatCommand) -> ChatReply:
        spec = self._router.resolve(command.model)
        messages = self._validated(command)
        prompt_tokens = self._prompt_tokens(messages, spec)
        max_tokens = spec.bound_max_tokens(command.max_tokens, self._limits.server_max_tokens)
        who = command.principal
        ticket = await self._spending.reserve(
            SpendRequest(
                who.user_id, who.plan, who.api_key_id, spec, prompt_tokens, max_tokens,
                stream=command.stream, counts_as_message=command.counts_as_message,
            )
        )  # fmt: skip
        options: dict[str, Any] = {
            "max_tokens": ticket.max_tokens,
            "temperature": command.temperature,
            "extra": command.extra,
        }
        if command.stream:
            chunks = self._router.stream(spec, messages, **options)
            try:
                first = await anext(chunks)
            except StopAsyncIteration:
                await self._spending.release(ticket)
                raise ProviderProtocolError("the provider sent an empty stream") from None
            except BaseException:
                await self._spending.release(ticket)
                raise
            stream = metered_stream(first, chunks, self._spending, ticket, prompt_tokens)
            return ChatReply(spec, prompt_tokens, chunks=stream)
        cacheable = self._cache.eligible(
            opted_in=command.cache_opt_in, temperature=command.temperature, stream=False
        )
        key = ""
        if cacheable:
            key = self._cache.key(
                who.user_id, spec.id, messages, ticket.max_tokens, command.temperature,
                command.extra,
            )  # fmt: skip
            hit = await self._cache.get(key)
            if hit is not None:
                await self._spending.release(ticket)
                return ChatReply(spec, prompt_tokens, completion=hit, cached=True)
        try:
            routed = await self._router.complete(spec, messages, **options)
        except BaseException:
            await self._spending.release(ticket)
            raise
        await settle_completion(self._spending, ticket, routed, prompt_tokens, self._tokenizer)
        if cacheable:
            await self._cache.put(key, routed)
        return ChatReply(spec, prompt_tokens, completion=routed)

    def _validated(self, command: CompleteChatCommand) -> list[ChatMessage]:
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
        for m in command.messages:
            role = ROLES.get(m.role)
            if role is None:
                raise InvalidInput(f"unsupported role {m.role[:20]!r}", details={"param": "role"})
            messages.append(ChatMessage(role, m.content) if role != m.role else m)
        return messages

    def _prompt_tokens(self, messages: list[ChatMessage], spec: ModelSpec) -> int:
        count = self._tokenizer.count_reply_priming() + sum(
            self._tokenizer.count_message(m.role, m.content) for m in messages
        )
        if count > spec.context_window:
            raise ContextLengthExceeded(
                f"the messages (about {count} tokens) exceed the {spec.context_window}-token "
                f"context window of {spec.id!r}",
                details={"param": "messages"},
            )
        return count
