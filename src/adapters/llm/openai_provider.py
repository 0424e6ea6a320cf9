"""Any OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio).

The openai SDK is the client: its retries are off (the router retries), and it sends every
request except chat completions over the lean transport, whose request is encoded here
once per call from the headers the SDK itself would send (its auth and identity headers,
read once at construction) straight onto the lean transport's pooled connections: the SDK's
per-request building (options, URL and header objects, httpx2's request and response
objects) cost more CPU than everything else Parley does per request. Behind a proxy, or
with a given ``http_client``, the SDK sends chat completions too. Responses are read as raw
bytes and decoded with msgspec under size bounds, because the upstream is untrusted and
pydantic per chunk is needlessly slow.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2  # the openai SDK's own HTTP library (its ``post`` returns its Response type)
import msgspec
import openai
import structlog

from adapters.llm.lean_transport import LeanTransport, Origin
from adapters.llm.openai_errors import error_message, status_error, translate_errors
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
_ERROR_BODY_BYTES = 65_536  # an error status's body is read this far, for its message
_encode = msgspec.json.encode


class OpenAIProvider(LLMProvider):
    """An ``LLMProvider`` over the openai SDK's ``AsyncOpenAI`` client. ``http_client``
    replaces the HTTP client the SDK sends through (the transports benchmark compares the
    SDK's own clients with the lean transport this way)."""

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
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.api_key = api_key
        self._max_chars = max_response_chars
        # A reply of N chars is at most ~N*6 bytes of JSON and SSE framing (escapes).
        self._max_bytes = max_response_chars * 6 + 65_536
        if lean_transport is None:  # proxies need the SDK's own transport
            lean_transport = not any(os.environ.get(v) for v in _PROXY_VARIABLES)
        self._lean: LeanTransport | None = None
        if lean_transport and http_client is None:
            self._lean = LeanTransport()
            http_client = httpx2.AsyncClient(transport=self._lean, trust_env=False)
        self.client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or _NO_KEY,
            max_retries=0,
            timeout=openai.Timeout(read_timeout_s, connect=connect_timeout_s),
            http_client=http_client,
        )
        self._timeouts = {
            "connect": connect_timeout_s,
            "read": read_timeout_s,
            "write": read_timeout_s,
            "pool": read_timeout_s,
        }
        self._origin, self._head = self._completions_head(read_timeout_s)

    def _completions_head(self, read_timeout_s: float) -> tuple[Origin, bytes]:
        """The request line and headers of every chat completion, as the SDK would send
        them (its auth headers, its identity headers, no retries taken), encoded once."""
        url = self.client.base_url.join("chat/completions")
        scheme = url.scheme
        port = url.port or (443 if scheme == "https" else 80)
        default_port = (scheme, port) in (("http", 80), ("https", 443))
        host = url.host if default_port else f"{url.host}:{port}"
        headers: dict[str, object] = {"Host": host}
        headers |= self.client.auth_headers
        headers |= self.client.default_headers
        headers["X-Stainless-Async"] = "async:asyncio"
        headers["X-Stainless-Retry-Count"] = "0"
        headers["X-Stainless-Read-Timeout"] = str(read_timeout_s)
        lines = [b"POST " + url.raw_path + b" HTTP/1.1"]
        lines += [f"{k}: {v}".encode() for k, v in headers.items() if isinstance(v, str)]
        return (scheme, url.host, port), b"\r\n".join(lines) + b"\r\nContent-Length: "

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
    async def _post(self, body: dict[str, Any]) -> AsyncIterator[AsyncIterator[bytes]]:
        """POST a chat completion; yields the reply's body bytes once its status is a
        success (an error status leaves as the port's error for it)."""
        if self._lean is None:
            async with self._post_through_sdk(body) as parts:
                yield parts
            return
        encoded = _encode(body)
        payload = self._head + str(len(encoded)).encode() + b"\r\n\r\n" + encoded
        reply = await self._lean.exchange(self._origin, payload, self._timeouts)
        try:
            if not 200 <= reply.status < 300:
                raise await self._status_error(reply.status, reply.body, reply.header)
            yield aiter(reply.body)
        finally:
            await reply.body.aclose()

    async def _status_error(
        self, status: int, body: AsyncIterable[bytes], header: Callable[[bytes], bytes | None]
    ) -> Exception:
        data = bytearray()
        async for part in body:
            data += part
            if len(data) > _ERROR_BODY_BYTES:
                break
        try:
            message = error_message(msgspec.json.decode(bytes(data)))
        except msgspec.DecodeError:
            message = ""
        headers = {
            name: value.decode("latin-1")
            for name in ("retry-after", "retry-after-ms")
            if (value := header(name.encode())) is not None
        }
        return status_error(self.name, status, message or f"HTTP {status}", headers)

    @asynccontextmanager
    async def _post_through_sdk(self, body: dict[str, Any]) -> AsyncIterator[AsyncIterator[bytes]]:
        """POST through the SDK's generic ``post`` (its documented way to reach any
        endpoint): same auth, URL, headers and error types as ``chat.completions.create``
        without its per-call parameter transformation. The body is streamed, never read
        whole by the SDK."""
        response = await self.client.post(
            "/chat/completions", body=body, cast_to=httpx2.Response, stream=True
        )
        try:
            yield response.aiter_bytes()
        finally:
            await response.aclose()

    async def complete(self, request: CompletionRequest) -> Completion:
        body = self._body(request, stream=False)
        with translate_errors(self.name):
            async with self._post(body) as parts:
                payload = bytearray()
                async for part in parts:
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
        """Deltas that arrived in the same network read are yielded as one chunk: they
        were received at the same instant, so joining them delays nothing, and every
        layer above (the log, the SSE frames, the socket writes) pays per chunk."""
        body = self._body(request, stream=True)
        lines = SSELines(max_line_bytes=min(self._max_bytes, 1_048_576))
        finish: str | None = None
        usage: Usage | None = None
        size = 0
        with translate_errors(self.name):
            async with self._post(body) as parts:
                async for part in parts:
                    received: list[str] = []
                    failure: ProviderProtocolError | None = None
                    done = False
                    for data in lines.feed(part):
                        if data == b"[DONE]":
                            done = True
                            break
                        wire = decode_completion(data)
                        if wire.error is not None:
                            failure = ProviderProtocolError(
                                "the provider reported an error mid-stream"
                            )
                            break
                        usage = _usage(wire) or usage
                        for choice in wire.choices[:1]:
                            finish = choice.finish_reason or finish
                            text = choice.delta.content if choice.delta else None
                            if text:
                                size += len(text)
                                if size > self._max_chars:
                                    failure = ProviderProtocolError(
                                        "the provider's reply exceeds the size limit"
                                    )
                                    break
                                received.append(text)
                        if failure is not None:
                            break
                    if received:  # what came before a failure is still delivered
                        yield Chunk(delta="".join(received))
                    if failure is not None:
                        raise failure
                    if done:
                        yield Chunk(finish_reason=finish or "stop", usage=usage)
                        return
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
