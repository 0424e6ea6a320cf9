from __future__ import annotations

import uuid

import pytest

from adapters.system.tokenizer import EstimatingTokenizer
from application.caching.completion_cache import CompletionCache
from application.gateway.complete_chat import (
    CompleteChat,
    CompleteChatCommand,
    ContextLengthExceeded,
    GatewayLimits,
    UnsupportedParameter,
)
from application.identity.principal import Principal
from application.llm.router import LLMRouter
from application.ports.llm import ChatMessage, ProviderBadRequest, ProviderUnavailable
from application.ports.metrics import NoMetrics
from application.ports.response_cache import Cache, CacheStats
from application.ports.spend_guard import SpendGuard, SpendRequest, SpendTicket
from domain.catalog import ModelCatalog, ModelSpec
from domain.errors import InvalidInput, TooManyRequests
from tests.unit.llm.scripted import ScriptedProvider, fails, ok

USER = Principal(uuid.uuid4(), "user", "free", "api_key", api_key_id=uuid.uuid4())
MAIN = ModelSpec("main", "a", "up-main", context_window=300, fallbacks=("backup",))
BACKUP = ModelSpec("backup", "b", "up-backup")


class RecordingSpending(SpendGuard):
    def __init__(self, grant: int | None = None, refuse: bool = False) -> None:
        self.grant = grant
        self.refuse = refuse
        self.reserved: list[SpendRequest] = []
        self.settled: list[tuple[str, int, int]] = []
        self.released = 0

    async def reserve(self, request: SpendRequest) -> SpendTicket:
        self.reserved.append(request)
        if self.refuse:
            raise TooManyRequests("quota used up")
        granted = request.max_tokens if self.grant is None else self.grant
        return SpendTicket(request.user_id, request.api_key_id, request.model.id, granted)

    async def settle(
        self, ticket: SpendTicket, *, model_id: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        self.settled.append((model_id, prompt_tokens, completion_tokens))

    async def release(self, ticket: SpendTicket) -> None:
        self.released += 1


class DictCache(Cache):
    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}

    async def get(self, key: str) -> bytes | None:
        return self.values.get(key)

    async def set(self, key: str, value: bytes, ttl_s: int) -> None:
        self.values[key] = value

    async def stats(self) -> CacheStats:
        return CacheStats(0, 0)


def make(
    a: ScriptedProvider, spending: RecordingSpending, b: ScriptedProvider | None = None
) -> CompleteChat:
    catalog = ModelCatalog((MAIN, BACKUP), "main")
    router = LLMRouter({"a": a, "b": b or ScriptedProvider("b")}, catalog, sleep=_no_sleep)
    cache = CompletionCache(DictCache(), NoMetrics())
    return CompleteChat(router, GatewayLimits(100, 4), EstimatingTokenizer(), spending, cache)


async def _no_sleep(_: float) -> None:
    return None


def command(text: str = "hi", **options: object) -> CompleteChatCommand:
    return CompleteChatCommand(USER, "main", (ChatMessage("user", text),), **options)  # type: ignore[arg-type]


async def test_quota_is_reserved_then_settled_with_the_providers_usage() -> None:
    a, spending = ScriptedProvider("a", [ok("x", "y")]), RecordingSpending()
    reply = await make(a, spending)(command(max_tokens=50))
    assert reply.completion is not None and reply.completion.completion.content == "xy"
    request = spending.reserved[0]
    assert request.user_id == USER.user_id and request.api_key_id == USER.api_key_id
    assert request.max_tokens == 50 and request.prompt_tokens == reply.prompt_tokens
    assert spending.settled == [("main", 3, 2)]


async def test_a_refused_reservation_means_zero_upstream_calls() -> None:
    a = ScriptedProvider("a")
    with pytest.raises(TooManyRequests):
        await make(a, RecordingSpending(refuse=True))(command())
    assert a.calls == 0


async def test_the_granted_budget_is_what_goes_upstream() -> None:
    a = ScriptedProvider("a")
    await make(a, RecordingSpending(grant=7))(command(max_tokens=90))
    assert a.requests[0].max_tokens == 7


async def test_usage_is_charged_to_the_model_that_answered() -> None:
    a = ScriptedProvider("a", [fails(ProviderUnavailable())] * 3)
    spending = RecordingSpending()
    reply = await make(a, spending, ScriptedProvider("b", [ok("z")]))(command())
    assert reply.completion is not None and reply.completion.model_id == "backup"
    assert spending.settled[0][0] == "backup"


async def test_a_failed_call_releases_the_reservation() -> None:
    a = ScriptedProvider("a", [fails(ProviderBadRequest("no"))])
    spending = RecordingSpending()
    with pytest.raises(ProviderBadRequest):
        await make(a, spending)(command())
    assert spending.released == 1 and spending.settled == []


async def test_a_stream_settles_once_at_its_end() -> None:
    a, spending = ScriptedProvider("a", [ok("p", "q", "r")]), RecordingSpending()
    reply = await make(a, spending)(command(stream=True))
    assert reply.chunks is not None and spending.settled == []
    text = "".join([c.chunk.delta async for c in reply.chunks])
    assert text == "pqr" and spending.settled == [("main", 3, 3)]
    assert spending.reserved[0].stream


async def test_a_stream_the_client_abandons_is_settled_for_what_was_sent() -> None:
    a, spending = ScriptedProvider("a", [ok("p", "q", "r")]), RecordingSpending()
    reply = await make(a, spending)(command(stream=True))
    assert reply.chunks is not None
    await anext(reply.chunks)
    await reply.chunks.aclose()  # type: ignore[attr-defined]
    assert spending.settled == [("main", reply.prompt_tokens, 1)] and a.closed == 1


async def test_a_stream_failing_before_output_releases_and_raises() -> None:
    a = ScriptedProvider("a", [fails(ProviderBadRequest("no"))])
    spending = RecordingSpending()
    with pytest.raises(ProviderBadRequest):
        await make(a, spending)(command(stream=True))
    assert spending.released == 1


async def test_an_opted_in_deterministic_request_is_answered_from_the_cache() -> None:
    a, spending = ScriptedProvider("a", [ok("first")]), RecordingSpending()
    use_case = make(a, spending)
    first = await use_case(command(temperature=0.0, cache_opt_in=True))
    second = await use_case(command(temperature=0.0, cache_opt_in=True))
    assert not first.cached and second.cached
    assert second.completion is not None and second.completion.completion.content == "first"
    assert a.calls == 1 and spending.released == 1 and len(spending.settled) == 1


async def test_without_opting_in_the_cache_is_never_used() -> None:
    a = ScriptedProvider("a", [ok("one"), ok("two")])
    use_case = make(a, RecordingSpending())
    await use_case(command(temperature=0.0))
    again = await use_case(command(temperature=0.0))
    assert not again.cached and a.calls == 2


async def test_requests_beyond_the_limits_are_refused_before_spending() -> None:
    spending = RecordingSpending()
    use_case = make(ScriptedProvider("a"), spending)
    with pytest.raises(UnsupportedParameter):
        await use_case(command(n=2))
    with pytest.raises(ContextLengthExceeded):
        await use_case(command("word " * 400))
    with pytest.raises(InvalidInput):
        await use_case(CompleteChatCommand(USER, "main", (ChatMessage("tool", "x"),)))
    many = tuple(ChatMessage("user", "x") for _ in range(5))
    with pytest.raises(InvalidInput):
        await use_case(CompleteChatCommand(USER, "main", many))
    assert spending.reserved == []


async def test_developer_messages_are_sent_as_system_messages() -> None:
    a = ScriptedProvider("a")
    messages = (ChatMessage("developer", "be terse"), ChatMessage("user", "hi"))
    await make(a, RecordingSpending())(CompleteChatCommand(USER, "main", messages))
    assert a.requests[0].messages[0] == ChatMessage("system", "be terse")
