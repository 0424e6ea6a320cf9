"""The openai adapter over real HTTP against the mock upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.llm.openai_provider import OpenAIProvider
from application.llm.errors import ProviderRejected
from application.ports.llm import (
    ChatMessage,
    Chunk,
    CompletionRequest,
    ProviderBadRequest,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from tests.support.mock_openai import Fault, MockUpstream, reply_tokens


@pytest.fixture(params=[True, False], ids=["lean", "sdk-transport"])
async def provider(
    mock: MockUpstream, request: pytest.FixtureRequest
) -> AsyncIterator[OpenAIProvider]:
    """Both ways chat completions leave: encoded here onto the lean transport (the default),
    and through the SDK's own request building and transport (behind a proxy)."""
    mock.reset()
    made = OpenAIProvider(
        "mock",
        base_url=mock.url,
        api_key="sk-test",
        read_timeout_s=2,
        max_response_chars=5000,
        lean_transport=request.param,
    )
    yield made
    await made.aclose()


def request(model: str = "m", max_tokens: int = 50, **extra: object) -> CompletionRequest:
    return CompletionRequest(
        model=model, messages=(ChatMessage("user", "hi"),), max_tokens=max_tokens, extra=extra
    )


async def drain(provider: OpenAIProvider, req: CompletionRequest) -> list[Chunk]:
    return [chunk async for chunk in provider.stream(req)]


async def test_a_completion_returns_the_upstream_text_finish_reason_and_usage(provider) -> None:
    completion = await provider.complete(request())
    assert completion.content == "".join(reply_tokens(12))
    assert completion.finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 12


async def test_a_stream_yields_each_token_then_finish_reason_and_usage(provider, mock) -> None:
    chunks = await drain(provider, request())
    assert mock.last_request()["stream_options"] == {"include_usage": True}
    assert [c.delta for c in chunks[:-1]] == reply_tokens(12)
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12


async def test_max_tokens_and_the_upstream_model_name_are_sent(provider, mock) -> None:
    completion = await provider.complete(request(model="small", max_tokens=3))
    assert completion.content == "Hello t1 t2" and completion.finish_reason == "length"
    assert mock.calls("small") == 1


async def test_a_500_becomes_provider_unavailable(provider, mock) -> None:
    mock.script("m", [Fault(status=500)])
    with pytest.raises(ProviderUnavailable, match="500"):
        await provider.complete(request())


async def test_a_429_becomes_rate_limited_with_the_retry_after_header(provider, mock) -> None:
    mock.script("m", [Fault(status=429, retry_after="7")])
    with pytest.raises(ProviderRateLimited) as caught:
        await drain(provider, request())
    assert caught.value.retry_after_s == 7


async def test_a_400_becomes_a_bad_request_and_a_401_a_rejection(provider, mock) -> None:
    mock.script("m", [Fault(status=400), Fault(status=401)])
    with pytest.raises(ProviderBadRequest):
        await provider.complete(request())
    with pytest.raises(ProviderRejected):
        await provider.complete(request())


async def test_a_read_timeout_becomes_provider_timeout(mock) -> None:
    mock.reset()
    mock.script("m", [Fault(stall_before_s=1.0)])
    slow = OpenAIProvider("mock", base_url=mock.url, api_key="k", read_timeout_s=0.2)
    try:
        with pytest.raises(ProviderTimeout):
            await slow.complete(request())
    finally:
        await slow.aclose()


async def test_an_unreachable_upstream_becomes_provider_unavailable() -> None:
    nowhere = OpenAIProvider("gone", base_url="http://127.0.0.1:9/v1", api_key="k")
    try:
        with pytest.raises(ProviderUnavailable):
            await nowhere.complete(request())
    finally:
        await nowhere.aclose()


async def test_a_malformed_chunk_becomes_a_protocol_error_after_the_good_ones(
    provider, mock
) -> None:
    mock.script("m", [Fault(malformed_after=2)])
    seen: list[str] = []

    async def consume() -> None:
        async for chunk in provider.stream(request()):
            seen.append(chunk.delta)

    with pytest.raises(ProviderProtocolError):
        await consume()
    assert seen == reply_tokens(2)


async def test_a_dropped_connection_mid_stream_is_an_error_not_a_short_reply(
    provider, mock
) -> None:
    mock.script("m", [Fault(drop_after=3)])
    with pytest.raises(ProviderProtocolError, match="ended"):
        await drain(provider, request())


async def test_an_endless_stream_is_cut_at_the_size_limit(provider, mock) -> None:
    mock.script("m", [Fault(endless=True)])
    with pytest.raises(ProviderProtocolError, match="size limit"):
        await drain(provider, request())


async def test_a_huge_reply_body_is_refused_without_reading_it_all(provider, mock) -> None:
    mock.script("m", [Fault(huge_bytes=5_000_000)])
    with pytest.raises(ProviderProtocolError, match="size limit"):
        await provider.complete(request())


async def test_extra_params_are_passed_through_in_the_body(provider, mock) -> None:
    await provider.complete(request(seed=7))
    sent = mock.last_request()
    assert sent["seed"] == 7 and sent["max_tokens"] == 50 and sent["stream"] is False


async def test_models_lists_the_upstream_models(provider) -> None:
    assert await provider.models() == ["mock-model"]
