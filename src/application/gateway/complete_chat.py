"""CompleteChat: a stateless chat completion for the OpenAI-compatible gateway."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from application.caching.completion_cache import CompletionCache
from application.gateway.metered_stream import MeteredStream, token_usage
from application.identity.principal import Principal
from application.llm.router import LLMRouter, RoutedCompletion
from application.ports.llm import ChatMessage, ProviderProtocolError
from application.ports.rate_limiter import ChatSendLimit, NoChatSendLimit, RateDecision
from application.ports.spend_guard import SpendGuard, SpendRequest
from application.ports.tokenizer import Tokenizer
from application.usage.charge import Charge
from domain.catalog import ModelSpec
from domain.context_window import ContextTooLong, Turn, fit_all
from domain.errors import InvalidInput
from domain.messages import TokenUsage

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


ContextLengthExceeded = ContextTooLong
"""The gateway's name for the one context-window error chat raises too
(``CONTEXT_WINDOW_EXCEEDED``; OpenAI clients see ``context_length_exceeded``)."""


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
    send_limited: bool = True
    """False for a job's model calls: jobs are capped by the plan's monthly jobs, and a
    research job's several calls must not eat the owner's chat-send window."""


@dataclass(frozen=True, slots=True)
class ChatReply:
    """Exactly one of ``completion`` (non-stream) or ``chunks`` (stream) is set."""

    spec: ModelSpec
    prompt_tokens: int
    completion: RoutedCompletion | None = None
    chunks: MeteredStream | None = None
    cached: bool = False
    usage: TokenUsage | None = None
    """Non-stream: exactly what was charged (a stream's is ``chunks.charged`` at its end)."""
    rate: RateDecision | None = None
    """The chat-send limit's decision, for RateLimit-* headers."""
    upstream_s: float = 0.0
    """Seconds spent waiting on the model before this reply was returned."""


class CompleteChat:
    """Business rules:
    - the model must be configured (else MODEL_NOT_FOUND) and allowed by the caller's plan;
      nothing is stored in conversations;
    - 1..``max_messages`` messages with roles system/developer/user/assistant, and the
      prompt plus the reply's budget must fit the model's context window: chat's rule and
      error (CONTEXT_WINDOW_EXCEEDED), nothing dropped;
    - every call counts against the caller's chat-send limit, with every other transport;
      the limit is asked before the quota, so a send it refuses never holds quota;
    - one choice only (``n`` > 1 is refused); ``max_tokens`` is bounded by the model's and
      the server's caps, and by the caller's remaining quota; extra parameters reach
      upstream only if the model allows them;
    - quota is reserved before any upstream call (refused: zero upstream calls), settled
      with the real usage of the model that answered (else the domain's estimate of the
      text), released when nothing was produced; the client is told what was charged;
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
        chat_limit: ChatSendLimit = NoChatSendLimit(),
    ) -> None:
        self._router = router
        self._limits = limits
        self._tokenizer = tokenizer
        self._spending = spending
        self._cache = cache
        self._chat_limit = chat_limit

    async def __call__(self, command: CompleteChatCommand) -> ChatReply:
        spec = self._router.resolve(command.model)
        messages = self._validated(command)
        max_tokens = spec.bound_max_tokens(command.max_tokens, self._limits.server_max_tokens)
        prompt_tokens = fit_all(
            turns=[Turn(m.role, m.content) for m in messages],
            context_window=spec.context_window,
            max_tokens=max_tokens,
            counter=self._tokenizer,
        ).prompt_tokens
        who = command.principal
        request = SpendRequest(
            who.user_id, who.plan, who.api_key_id, spec, prompt_tokens, max_tokens,
            stream=command.stream, counts_as_message=command.counts_as_message,
        )  # fmt: skip
        rate, charge = await self._limited_and_reserved(command, request)
        options: dict[str, Any] = {
            "max_tokens": charge.max_tokens,
            "temperature": command.temperature,
            "extra": command.extra,
        }
        asked = time.perf_counter()
        if command.stream:
            chunks = self._router.stream(spec, messages, **options)
            async with charge.released_on_error():
                first = await anext(chunks, None)
                if first is None:
                    raise ProviderProtocolError("the provider sent an empty stream")
            stream = MeteredStream(first, chunks, charge)
            waited = time.perf_counter() - asked
            return ChatReply(spec, prompt_tokens, chunks=stream, rate=rate, upstream_s=waited)
        key = self._cache_key(command, spec, messages, charge.max_tokens)
        if key is not None:
            hit = await self._cache.get(key)
            if hit is not None:
                await charge.release()
                return ChatReply(spec, prompt_tokens, completion=hit, cached=True, rate=rate)
        async with charge.released_on_error():
            routed = await self._router.complete(spec, messages, **options)
        waited = time.perf_counter() - asked
        result = routed.completion
        charged = await charge.settle(
            model_id=routed.model_id, reported=token_usage(result.usage), text=result.content
        )
        if key is not None:
            await self._cache.put(key, routed)
        return ChatReply(
            spec, prompt_tokens, completion=routed, usage=charged, rate=rate, upstream_s=waited
        )

    async def _limited_and_reserved(
        self, command: CompleteChatCommand, request: SpendRequest
    ) -> tuple[RateDecision | None, Charge]:
        """Count the send, then reserve the quota, as chat does. Not both at once: a send
        the limit refuses would hold a reservation while it waits, and a send of the same
        user that the limit admits could be refused for quota it never lacked.
        (Concurrent requests share their round trips to Redis anyway.)"""
        rate = await self._chat_limit.check(request.user_id) if command.send_limited else None
        return rate, await Charge.reserve(self._spending, request)

    def _cache_key(
        self,
        command: CompleteChatCommand,
        spec: ModelSpec,
        messages: list[ChatMessage],
        max_tokens: int,
    ) -> str | None:
        if not self._cache.eligible(
            opted_in=command.cache_opt_in, temperature=command.temperature, stream=False
        ):
            return None
        return self._cache.key(
            command.principal.user_id, spec.id, messages, max_tokens, command.temperature,
            command.extra,
        )  # fmt: skip

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
