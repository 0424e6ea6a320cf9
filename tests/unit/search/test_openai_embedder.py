"""The OpenAI-compatible embedder against a fake endpoint (httpx transport, no network)."""

from __future__ import annotations

import json

import httpx
import pytest
from openai import AsyncOpenAI

from adapters.embeddings.openai_embedder import OpenAIEmbedder
from application.ports.embedder import EmbedderBadResponse, EmbedderUnavailable


def _embedder(handler, *, dim: int = 3, batch_size: int = 2) -> OpenAIEmbedder:
    client = AsyncOpenAI(
        base_url="http://embeddings.test/v1",
        api_key="test",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    return OpenAIEmbedder(client, model="tiny-embed", dim=dim, batch_size=batch_size)


def _answer(inputs: list[str], dim: int = 3, reverse: bool = False) -> httpx.Response:
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(text))] * dim}
        for i, text in enumerate(inputs)
    ]
    if reverse:
        data.reverse()
    body = {
        "object": "list",
        "data": data,
        "model": "tiny-embed",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    return httpx.Response(200, json=body)


async def test_texts_are_sent_in_batches_and_come_back_in_order() -> None:
    batches: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["input"]
        batches.append(inputs)
        return _answer(inputs, reverse=True)  # servers may answer out of order

    vectors = await _embedder(handler).embed(["a", "bb", "ccc", "dddd", "eeeee"])
    assert batches == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert [v[0] for v in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]


async def test_vectors_of_the_wrong_size_are_refused_with_a_clear_message() -> None:
    embedder = _embedder(lambda request: _answer(json.loads(request.content)["input"], dim=5))
    with pytest.raises(EmbedderBadResponse) as refused:
        await embedder.embed(["x"])
    assert "PARLEY_EMBEDDINGS_DIM=5" in refused.value.detail


async def test_a_failing_endpoint_becomes_unavailable_not_a_library_error() -> None:
    embedder = _embedder(lambda request: httpx.Response(503, json={"error": {"message": "down"}}))
    with pytest.raises(EmbedderUnavailable):
        await embedder.embed(["x"])
