"""What the openai adapter puts on the wire for a chat completion, over real sockets: on the
lean path the same request line, auth and identity headers as the SDK itself sends, and a
POST whose body was written is never sent again, even from a reused connection."""

from __future__ import annotations

import asyncio
import json

import pytest

from adapters.llm.openai_provider import OpenAIProvider
from application.ports.llm import ChatMessage, CompletionRequest, ProviderUnavailable
from tests.integration.llm.test_lean_transport_limits import read_request, server

REPLY = json.dumps({"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}).encode()
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(REPLY),
    REPLY,
)
REQUEST = CompletionRequest(
    model="m", messages=(ChatMessage("user", "hi"),), max_tokens=5, extra={"seed": 3}
)
# Per-request values the two paths may legitimately differ in (the SDK asks for compression
# it then undoes; the lean path sends identity).
VARYING = {"content-length", "accept-encoding", "connection", "host"}


def parse(raw: bytes) -> tuple[bytes, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    first, *lines = head.split(b"\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return first, headers, json.loads(body)


async def capture(lean: bool) -> tuple[bytes, int]:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()
        writer.close()

    async with server(handle) as port:
        provider = OpenAIProvider(
            "up", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-secret", lean_transport=lean
        )
        try:
            completion = await provider.complete(REQUEST)
        finally:
            await provider.aclose()
    assert completion.content == "hi"
    return received[0], port


async def test_the_lean_path_sends_what_the_sdk_sends() -> None:
    lean_raw, lean_port = await capture(lean=True)
    sdk_raw, sdk_port = await capture(lean=False)
    lean_line, lean_headers, lean_body = parse(lean_raw)
    sdk_line, sdk_headers, sdk_body = parse(sdk_raw)
    assert lean_headers["host"] == f"127.0.0.1:{lean_port}"
    assert sdk_headers["host"] == f"127.0.0.1:{sdk_port}"
    assert lean_line == sdk_line == b"POST /v1/chat/completions HTTP/1.1"
    assert lean_headers["authorization"] == "Bearer sk-secret"
    assert {k: v for k, v in lean_headers.items() if k not in VARYING} == {
        k: v for k, v in sdk_headers.items() if k not in VARYING
    }
    assert lean_body == sdk_body
    assert lean_body["seed"] == 3 and lean_body["max_tokens"] == 5


async def test_a_completion_whose_body_was_written_is_not_sent_again() -> None:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await read_request(reader))
        writer.write(OK)  # the first is answered; the connection idles in the pool
        await writer.drain()
        received.append(await read_request(reader))
        writer.close()  # the second was read (maybe billed), then the socket dies

    async with server(handle) as port:
        provider = OpenAIProvider("up", base_url=f"http://127.0.0.1:{port}/v1", api_key="k")
        try:
            assert (await provider.complete(REQUEST)).content == "hi"
            with pytest.raises(ProviderUnavailable):
                await provider.complete(REQUEST)
        finally:
            await provider.aclose()
    assert len(received) == 2


async def test_an_error_status_keeps_the_upstream_message_and_frees_the_connection() -> None:
    body = b'{"error": {"message": "model overloaded", "type": "server_error"}}'
    error = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    served: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            served.append(1)
            writer.write(error if len(served) == 1 else OK)
            await writer.drain()

    async with server(handle) as port:
        provider = OpenAIProvider("up", base_url=f"http://127.0.0.1:{port}/v1", api_key="k")
        try:
            with pytest.raises(ProviderUnavailable, match="503: model overloaded"):
                await provider.complete(REQUEST)
            assert (await provider.complete(REQUEST)).content == "hi"
        finally:
            await provider.aclose()
    assert len(served) == 2
