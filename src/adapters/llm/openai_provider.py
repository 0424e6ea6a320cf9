"""Any OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio).

The openai SDK builds and sends the request (auth, URL, headers) with its own retries off:
the router retries. Responses are read as raw bytes and decoded with msgspec under size
bounds, because the upstream is untrusted and pydantic per chunk is needlessly slow.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2  # the openai SDK's own HTTP library (its ``post`` returns its Response type)
import openai
import structlog

from adapters.llm.lean_transport import LeanTransport
from adapters.llm.openai_errors import translate_errors
from adapters.llm.wire import SSELines, WireCompletion, decode_completion
from application.ports.llm import (
    Chunk,
    Completion,
    CompletionRequest,
    LLMProvider,
    ProviderProtocolError,
    Usage,
)

log = structlog.get_logger("parley.llm.openai")

_PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy")
_NO_KEY = "sk-no-key"  # local servers (Ollama, vLLM) need none, but the SDK wants a value


class OpenAIProvider(LLMProvider):
    """An ``LLMProvider`` over the openai SDK's ``AsyncOpenAI`` client."""

    def __init__(
        self,
        name: str,
        *,
        base_url: str | None,
        api_key: str,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 60.0,
        max_response_chars: int = 400_000,
        lean_transport: bool | None = None,
    ) -> None:
        self.name = name
        self.api_key = api_key
        self._max_chars = max_response_chars
        # A reply of N chars is at most ~N*6 bytes of JSON and SSE framing (escapes).
        self._max_bytes = max_response_chars * 6 + 65_536
        if lean_transport is None:  # proxies need the SDK's own transport
            lean_transport = not any(os.environ.get(v) for v in _PROXY_VARIABLES)
        self.client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or _NO_KEY,
            max_retries=0,
            timeout=openai.Timeout(read_timeout_s, connect=connect_timeout_s),
            http_client=(
                httpx2.AsyncClient(transport=LeanTransport(), trust_env=False)
                if lean_transport
                else None
            ),
        )

    def _body(self, request: CompletionRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "stream": stream,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if stream:
            body["stream_options"] = {"include_usage": True}
        body.update(request.extra)  # already filtered by the model's allowed_params
        return body

    @asynccontextmanager
    async def _post(self, body: dict[str, Any]) -> AsyncIterator[httpx2.Response]:
        """POST through the SDK's generic ``post`` (its documented way to reach any
        endpoint): same auth, URL, headers and error types as ``chat.completions.create``
        without its per-call parameter transformation, which costs more than everything else
        Parley does per request. The body is streamed, never read whole by the SDK."""
        response = await self.client.post(
            "/chat/completions", body=body, cast_to=httpx2.Response, stream=True
        )
        try:
            yield response
        finally:
            await response.aclose()

    async def complete(self, request: CompletionRequest) -> Completion:
        body = self._body(request, stream=False)
        with translate_errors(self.name):
            async with self._post(body) as response:
                payload = bytearray()
                async for part in response.aiter_bytes():
                    payload += part
                    if len(payload) > self._max_bytes:
                        raise ProviderProtocolError("the provider's reply exceeds the size limit")
        wire = decode_completion(bytes(payload))
        if wire.error is not None or not wire.choices or wire.choices[0].message is None:
            raise ProviderProtocolError("the provider's reply has no message")
        choice = wire.choices[0]
        content = (choice.message.content if choice.message else None) or ""
        if len(content) > self._max_chars:
            raise ProviderProtocolError("the provider's reply exceeds the size limit")
        return Completion(content, choice.finish_reason or "stop", _usage(wire))

    async def stream(self, request: CompletionRequest) -> AsyncIterator[Chunk]:
        body = self._body(request, stream=True)
        lines = SSELines(max_line_bytes=min(self._max_bytes, 1_048_576))
        finish: str | None = None
        usage: Usage | None = None
        size = 0
        with translate_errors(self.name):
            async with self._post(body) as response:
                async for part in response.aiter_bytes():
                    for data in lines.feed(part):
                        if data == b"[DONE]":
                            yield Chunk(finish_reason=finish or "stop", usage=usage)
                            return
                        wire = decode_completion(data)
                        if wire.error is not None:
                            raise ProviderProtocolError("the provider reported an error mid-stream")
                        usage = _usage(wire) or usage
                        for choice in wire.choices[:1]:
                            finish = choice.finish_reason or finish
                            text = choice.delta.content if choice.delta else None
                            if text:
                                size += len(text)
                                if size > self._max_chars:
                                    raise ProviderProtocolError(
                                        "the provider's reply exceeds the size limit"
                                    )
                                yield Chunk(delta=text)
        if finish is None:  # the connection ended before the reply did
            raise ProviderProtocolError("the provider's stream ended before the reply finished")
        yield Chunk(finish_reason=finish, usage=usage)

    async def models(self) -> list[str]:
        with translate_errors(self.name):
            page = await self.client.models.list()
        return [m.id for m in page.data]

    async def aclose(self) -> None:
        await self.client.close()


def _usage(wire: WireCompletion) -> Usage | None:
    if wire.usage is None:
        return None
    return Usage(wire.usage.prompt_tokens, wire.usage.completion_tokens)
