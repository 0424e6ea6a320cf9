from __future__ import annotations

import pytest

from application.llm.policy import BreakerPolicy, ProviderLimits, RoutingPolicy
from application.llm.requests import CONTINUE_PROMPT
from application.llm.router import LLMRouter, RoutedChunk
from application.ports.llm import (
    ChatMessage,
    ProviderBadRequest,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.catalog import ModelCatalog, ModelNotFound, ModelSpec
from tests.unit.llm.scripted import Outcome, ScriptedProvider, fails, ok

MESSAGES = [ChatMessage("user", "hi")]


class Sleeps:
    """Injected sleep: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def catalog(*specs: ModelSpec) -> ModelCatalog:
    return ModelCatalog(models=specs, default_model=specs[0].id)


MAIN = ModelSpec("main", "a", "up-main", max_output_tokens=100, fallbacks=("backup",))
BACKUP = ModelSpec("backup", "b", "up-backup")


def make_router(
    a: ScriptedProvider,
    b: ScriptedProvider | None = None,
    *,
    sleeps: Sleeps | None = None,
    limits: ProviderLimits | None = None,
    **policy: object,
) -> LLMRouter:
    providers = {"a": a, "b": b or ScriptedProvider("b")}
    base = RoutingPolicy(default_limits=limits or ProviderLimits(max_retries=2))
    fields = {**{f: getattr(base, f) for f in base.__slots__}, **policy}
    return LLMRouter(
        providers,
        catalog(MAIN, BACKUP),
        RoutingPolicy(**fields),  # type: ignore[arg-type]
        sleep=sleeps or Sleeps(),
        jitter=lambda: 0.5,
    )


async def collect(router: LLMRouter, spec: ModelSpec = MAIN) -> list[RoutedChunk]:
    return [c async for c in router.stream(spec, MESSAGES, max_tokens=10)]


def text(chunks: list[RoutedChunk]) -> str:
    return "".join(c.chunk.delta for c in chunks)


def test_resolve_gives_the_default_model_for_none_and_refuses_unknown_ids() -> None:
    router = make_router(ScriptedProvider("a"))
    assert router.resolve(None) is MAIN
    assert router.resolve("backup") is BACKUP
    with pytest.raises(ModelNotFound):
        router.resolve("nope")


async def test_a_completion_goes_to_the_models_provider_with_its_upstream_name() -> None:
    a = ScriptedProvider("a", [ok("hello")])
    routed = await make_router(a).complete(MAIN, MESSAGES, max_tokens=10)
    assert routed.completion.content == "hello"
    assert routed.model_id == "main"
    assert a.requests[0].model == "up-main"


async def test_max_tokens_is_bounded_by_the_model_cap() -> None:
    a = ScriptedProvider("a")
    await make_router(a).complete(MAIN, MESSAGES, max_tokens=10_000)
    assert a.requests[0].max_tokens == 100


async def test_only_allowed_params_are_forwarded_upstream() -> None:
    a = ScriptedProvider("a")
    spec = ModelSpec("main", "a", "up", allowed_params=frozenset({"seed"}))
    router = LLMRouter({"a": a}, catalog(spec))
    await router.complete(spec, MESSAGES, max_tokens=5, extra={"seed": 1, "logit_bias": {}})
    assert dict(a.requests[0].extra) == {"seed": 1}


async def test_a_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    a = ScriptedProvider("a", [fails(ProviderUnavailable()), fails(ProviderUnavailable()), ok()])
    sleeps = Sleeps()
    routed = await make_router(a, sleeps=sleeps).complete(MAIN, MESSAGES, max_tokens=5)
    assert routed.model_id == "main" and a.calls == 3
    assert sleeps.delays == [pytest.approx(0.25 * 0.75), pytest.approx(0.5 * 0.75)]


async def test_a_bad_request_is_neither_retried_nor_sent_to_a_fallback() -> None:
    a = ScriptedProvider("a", [fails(ProviderBadRequest("no"))])
    b = ScriptedProvider("b")
    with pytest.raises(ProviderBadRequest):
        await make_router(a, b).complete(MAIN, MESSAGES, max_tokens=5)
    assert a.calls == 1 and b.calls == 0


async def test_when_retries_are_used_up_the_fallback_model_answers() -> None:
    a = ScriptedProvider("a", [fails(ProviderUnavailable())] * 3)
    b = ScriptedProvider("b", [ok("from backup")])
    routed = await make_router(a, b).complete(MAIN, MESSAGES, max_tokens=5)
    assert routed.model_id == "backup"
    assert routed.completion.content == "from backup"
    assert a.calls == 3 and b.requests[0].model == "up-backup"


async def test_the_last_error_is_raised_when_every_model_fails() -> None:
    a = ScriptedProvider("a", [fails(ProviderUnavailable())] * 3)
    b = ScriptedProvider("b", [fails(ProviderTimeout())] * 3)
    with pytest.raises(ProviderTimeout):
        await make_router(a, b).complete(MAIN, MESSAGES, max_tokens=5)


async def test_a_429_waits_its_retry_after_when_short_enough() -> None:
    a = ScriptedProvider("a", [fails(ProviderRateLimited(retry_after_s=2.0)), ok()])
    sleeps = Sleeps()
    await make_router(a, sleeps=sleeps).complete(MAIN, MESSAGES, max_tokens=5)
    assert sleeps.delays == [2.0] and a.calls == 2


async def test_a_429_with_a_long_retry_after_goes_straight_to_the_fallback() -> None:
    a = ScriptedProvider("a", [fails(ProviderRateLimited(retry_after_s=60.0))])
    b = ScriptedProvider("b")
    sleeps = Sleeps()
    routed = await make_router(a, b, sleeps=sleeps).complete(MAIN, MESSAGES, max_tokens=5)
    assert routed.model_id == "backup" and sleeps.delays == [] and a.calls == 1


async def test_a_429_without_fallback_reaches_the_caller_as_rate_limited() -> None:
    a = ScriptedProvider("a", [fails(ProviderRateLimited(retry_after_s=60.0))])
    router = LLMRouter({"a": a}, catalog(ModelSpec("solo", "a", "up")))
    with pytest.raises(ProviderRateLimited):
        await router.complete(router.resolve("solo"), MESSAGES, max_tokens=5)


async def test_an_unexpected_adapter_exception_becomes_provider_unavailable() -> None:
    a = ScriptedProvider("a", [fails(RuntimeError("bug"))] * 3)
    router = LLMRouter({"a": a}, catalog(ModelSpec("solo", "a", "up")), sleep=Sleeps())
    with pytest.raises(ProviderUnavailable):
        await router.complete(router.resolve("solo"), MESSAGES, max_tokens=5)


async def test_a_stream_yields_every_chunk_tagged_with_its_model() -> None:
    a = ScriptedProvider("a", [ok("a", "b", "c")])
    chunks = await collect(make_router(a))
    assert text(chunks) == "abc"
    assert {c.model_id for c in chunks} == {"main"} and not any(c.fallback for c in chunks)
    assert chunks[-1].chunk.finish_reason == "stop"


async def test_a_stream_failing_before_its_first_chunk_is_retried() -> None:
    a = ScriptedProvider("a", [fails(ProviderUnavailable()), ok("x", "y")])
    chunks = await collect(make_router(a))
    assert text(chunks) == "xy" and a.calls == 2


async def test_a_stream_failing_mid_way_is_not_retried_and_ends_with_the_error() -> None:
    a = ScriptedProvider("a", [fails(ProviderUnavailable(), after=("one ", "two "))])
    b = ScriptedProvider("b")
    seen: list[str] = []

    async def drain() -> None:
        async for chunk in make_router(a, b).stream(MAIN, MESSAGES, max_tokens=10):
            seen.append(chunk.chunk.delta)

    with pytest.raises(ProviderUnavailable):
        await drain()
    assert seen == ["one ", "two "] and a.calls == 1 and b.calls == 0


async def test_mid_stream_fallback_continues_on_the_fallback_model_marked_as_such() -> None:
    a = ScriptedProvider("a", [fails(ProviderUnavailable(), after=("one ",))])
    b = ScriptedProvider("b", [ok("two")])
    chunks = await collect(make_router(a, b, mid_stream="fallback"))
    assert text(chunks) == "one two"
    assert [(c.model_id, c.fallback) for c in chunks] == [("main", False), ("backup", True)]
    sent = b.requests[0].messages
    assert sent[-2] == ChatMessage("assistant", "one ")
    assert sent[-1] == ChatMessage("user", CONTINUE_PROMPT)


async def test_a_stall_before_the_first_token_times_out_then_falls_back() -> None:
    limits = ProviderLimits(max_retries=0, first_token_timeout_s=0.02)
    a = ScriptedProvider("a", [Outcome(stall_before_s=5)])
    b = ScriptedProvider("b", [ok("late but fine")])
    chunks = await collect(make_router(a, b, limits=limits))
    assert text(chunks) == "late but fine" and chunks[0].fallback
    assert a.closed == 1  # the stalled upstream was closed, not leaked


async def test_a_stall_between_chunks_ends_the_stream_with_a_timeout() -> None:
    limits = ProviderLimits(max_retries=0, idle_timeout_s=0.02)
    a = ScriptedProvider("a", [Outcome(pieces=("a", "b"), stall_after_s=5)])
    with pytest.raises(ProviderTimeout):
        await collect(make_router(a, limits=limits))
    assert a.closed == 1


async def test_an_endless_stream_is_cut_at_the_size_limit() -> None:
    a = ScriptedProvider("a", [ok(*(["x" * 10] * 1000))])
    with pytest.raises(ProviderProtocolError):
        await collect(make_router(a, max_response_chars=100))


async def test_an_open_circuit_skips_the_provider_without_calling_it() -> None:
    breaker = BreakerPolicy(failure_ratio=0.5, min_calls=2, window_s=60, cooldown_s=60)
    a = ScriptedProvider("a", [fails(ProviderUnavailable())] * 2)
    router = make_router(a, limits=ProviderLimits(max_retries=1), breaker=breaker)
    routed = await router.complete(MAIN, MESSAGES, max_tokens=5)
    assert routed.model_id == "backup"
    assert router.breaker_states()["a"] == "open"
    await router.complete(MAIN, MESSAGES, max_tokens=5)
    assert a.calls == 2
