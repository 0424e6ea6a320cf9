"""Deltas that reach the adapter in one network read leave it as one chunk."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from adapters.llm.openai_provider import OpenAIProvider
from application.ports.llm import ChatMessage, CompletionRequest

TOKENS = ["Hello", " there", ",", " friend"]


def _event(delta: dict[str, str], finish: str | None = None, usage: bool = False) -> bytes:
    body: dict[str, object] = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body = {**body, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


BURST = (
    b"".join(_event({"content": t}) for t in TOKENS)
    + _event({}, finish="stop")
    + _event({}, usage=True)
    + b"data: [DONE]\n\n"
)


async def _answer_in_one_write(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        + b"content-length: %d\r\n\r\n" % len(BURST)
        + BURST
    )
    await writer.drain()
    writer.close()


@pytest.fixture(params=[True, False], ids=["lean", "sdk-transport"])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[OpenAIProvider]:
    server = await asyncio.start_server(_answer_in_one_write, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    made = OpenAIProvider(
        "burst", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test",
        read_timeout_s=2, lean_transport=request.param,
    )  # fmt: skip
    yield made
    await made.aclose()
    server.close()
    await server.wait_closed()


async def test_deltas_received_together_are_one_chunk_with_the_same_text(provider) -> None:
    req = CompletionRequest(model="m", messages=(ChatMessage("user", "hi"),), max_tokens=20)
    chunks = [chunk async for chunk in provider.stream(req)]
    deltas = [c.delta for c in chunks if c.delta]
    assert deltas == ["".join(TOKENS)]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4
