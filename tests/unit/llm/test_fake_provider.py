from __future__ import annotations

import pytest

from adapters.llm.fake import FakeBehaviour, FakeLLMProvider, split_tokens
from application.ports.llm import ChatMessage, CompletionRequest, ProviderUnavailable


def request(text: str, max_tokens: int = 100) -> CompletionRequest:
    return CompletionRequest(
        model="parley-fake",
        messages=(ChatMessage("system", "be brief"), ChatMessage("user", text)),
        max_tokens=max_tokens,
    )


async def collect(provider: FakeLLMProvider, req: CompletionRequest) -> list:
    return [chunk async for chunk in provider.stream(req)]


def test_token_pieces_concatenate_back_to_the_exact_text() -> None:
    for text in ["Echo: hello  world ", "one", "  lead", "a\nb\tc", " "]:
        assert "".join(split_tokens(text)) == text


async def test_it_echoes_the_last_user_message_token_by_token() -> None:
    chunks = await collect(FakeLLMProvider(), request("hello there world"))
    assert [c.delta for c in chunks] == ["Echo:", " hello", " there", " world"]
    assert chunks[-1].finish_reason == "stop"
    assert all(c.finish_reason is None for c in chunks[:-1])


async def test_the_same_prompt_always_gives_the_same_reply() -> None:
    provider = FakeLLMProvider()
    first = await provider.complete(request("deterministic?"))
    second = await provider.complete(request("deterministic?"))
    assert first == second
    assert first.content == "Echo: deterministic?"


async def test_a_configured_reply_replaces_the_echo() -> None:
    provider = FakeLLMProvider(behaviour=FakeBehaviour(reply="Fixed answer."))
    completion = await provider.complete(request("anything"))
    assert completion.content == "Fixed answer."


async def test_usage_counts_completion_tokens_exactly_and_estimates_the_prompt() -> None:
    completion = await FakeLLMProvider().complete(request("a b c"))
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 4
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 4


async def test_max_tokens_cuts_the_reply_with_finish_reason_length() -> None:
    completion = await FakeLLMProvider().complete(request("one two three four five", 2))
    assert completion.content == "Echo: one"
    assert completion.finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 2


async def test_it_fails_after_the_configured_number_of_tokens() -> None:
    provider = FakeLLMProvider(behaviour=FakeBehaviour(fail_after=2))
    seen: list[str] = []

    async def drain() -> None:
        async for chunk in provider.stream(request("one two three")):
            seen.append(chunk.delta)

    with pytest.raises(ProviderUnavailable):
        await drain()
    assert seen == ["Echo:", " one"]


async def test_fail_after_zero_fails_before_any_token() -> None:
    provider = FakeLLMProvider(behaviour=FakeBehaviour(fail_after=0))
    with pytest.raises(ProviderUnavailable):
        await provider.complete(request("x"))


async def test_delays_are_applied_before_the_first_token_and_between_tokens() -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    provider = FakeLLMProvider(behaviour=FakeBehaviour(ttft_ms=30, gap_ms=10))
    started = loop.time()
    times = [loop.time() - started async for _ in provider.stream(request("a b"))]
    assert times[0] >= 0.029
    assert times[1] - times[0] >= 0.009 and times[2] - times[1] >= 0.009
