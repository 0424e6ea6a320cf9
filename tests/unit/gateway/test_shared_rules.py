"""/v1 follows chat's rules: one context check and error code, one completion estimate,
the chat-send limit, and it tells the client exactly what it charged."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.system.tokenizer import EstimatingTokenizer
from application.caching.completion_cache import CompletionCache
from application.gateway.complete_chat import CompleteChat, CompleteChatCommand, GatewayLimits
from application.identity.principal import Principal
from application.llm.router import LLMRouter
from application.ports.llm import ChatMessage, Chunk, Completion, CompletionRequest
from application.ports.metrics import NoMetrics
from application.ports.rate_limiter import ChatSendLimit, RateDecision
from domain.catalog import ModelCatalog, ModelSpec
from domain.context_window import ContextTooLong, Turn, fit_context
from domain.errors import TooManyRequests
from domain.usage import estimate_tokens
from tests.unit.gateway.test_complete_chat import DictCache, RecordingSpending
from tests.unit.llm.scripted import ScriptedProvider

USER = Principal(uuid.uuid4(), "user", "free", "api_key", api_key_id=uuid.uuid4())
MAIN = ModelSpec("main", "a", "up-main", context_window=300, max_output_tokens=100)


class Uncounted(ScriptedProvider):
    """An upstream that never reports usage (many self-hosted servers)."""

    async def complete(self, request: CompletionRequest) -> Completion:
        done = await super().complete(request)
        return Completion(done.content, done.finish_reason, None)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        async for chunk in super().stream(request):
            yield Chunk(chunk.delta, chunk.finish_reason, None)


class OneSend(ChatSendLimit):
    def __init__(self) -> None:
        self.sends = 0

    async def check(self, user_id: uuid.UUID) -> RateDecision | None:
        self.sends += 1
        decision = RateDecision(self.sends <= 1, 1, 0, 60.0, 60.0)
        decision.raise_if_denied()
        return decision


def make(
    provider: ScriptedProvider, spending: RecordingSpending, limit: ChatSendLimit | None = None
):
    router = LLMRouter({"a": provider}, ModelCatalog((MAIN,), "main"))
    cache = CompletionCache(DictCache(), NoMetrics())
    limits = GatewayLimits(100, 8)
    if limit is None:
        return CompleteChat(router, limits, EstimatingTokenizer(), spending, cache)
    return CompleteChat(router, limits, EstimatingTokenizer(), spending, cache, limit)


def command(text: str = "hi", **options: object) -> CompleteChatCommand:
    return CompleteChatCommand(USER, "main", (ChatMessage("user", text),), **options)  # type: ignore[arg-type]


async def test_the_reported_usage_is_what_was_charged_when_upstream_counts_nothing() -> None:
    spending = RecordingSpending()
    reply = await make(Uncounted("a", []), spending)(command())
    assert reply.completion is not None and reply.usage is not None
    charged = spending.settled[0]
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == charged[1:]
    assert charged[2] == estimate_tokens(reply.completion.completion.content)


async def test_a_streams_reported_usage_is_what_was_charged() -> None:
    spending = RecordingSpending()
    reply = await make(Uncounted("a", []), spending)(command(stream=True))
    assert reply.chunks is not None
    text = "".join([c.chunk.delta async for c in reply.chunks])
    charged = reply.chunks.charged
    assert charged is not None and spending.settled == [
        ("main", charged.prompt_tokens, charged.completion_tokens)
    ]
    assert charged.completion_tokens == estimate_tokens(text)


async def test_the_context_rule_and_error_are_chats() -> None:
    tokens = EstimatingTokenizer()
    spending = RecordingSpending()
    text = "y" * 600  # fits the 300-token window alone, not with the 100-token reply budget
    with pytest.raises(ContextTooLong) as gateway_refusal:
        await make(ScriptedProvider("a"), spending)(command(text))
    with pytest.raises(ContextTooLong) as chat_refusal:
        fit_context(
            system_prompt=None,
            history=[],
            new_message=Turn("user", text),
            context_window=300,
            max_tokens=100,
            counter=tokens,
        )
    assert gateway_refusal.value.code == chat_refusal.value.code == "CONTEXT_WINDOW_EXCEEDED"
    assert spending.reserved == []


async def test_completions_count_against_the_chat_send_limit() -> None:
    provider = ScriptedProvider("a")
    use_case = make(provider, RecordingSpending(), OneSend())
    first = await use_case(command())
    assert first.rate is not None and first.rate.limit == 1
    with pytest.raises(TooManyRequests):
        await use_case(command())
    assert provider.calls == 1


async def test_a_send_the_limit_refuses_holds_no_quota() -> None:
    spending = RecordingSpending()
    use_case = make(ScriptedProvider("a"), spending, OneSend())
    await use_case(command())
    with pytest.raises(TooManyRequests):
        await use_case(command())
    # The limit refused it before any quota was reserved for it.
    assert (len(spending.reserved), spending.released) == (1, 0)
