"""OpenAI wire format for the /v1 gateway: request and response bodies as msgspec Structs
(they also document the routes in OpenAPI), plus fast SSE chunk framing."""

from __future__ import annotations

import base64
from array import array
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

FORWARDABLE = (
    "top_p",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "user",
)
"""Optional parameters passed upstream only when the model's ``allowed_params`` lists them."""


MAX_TOKENS = 1_000_000
"""Bounds the wire value (the server caps max_tokens far lower anyway)."""


class ContentPart(Struct):
    type: Literal["text"]  # the only kind of part the gateway accepts
    text: str


class MessageIn(Struct):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class StreamOptions(Struct):
    include_usage: bool = False


class ChatCompletionRequest(Struct, kw_only=True):
    """POST /v1/chat/completions body (unknown fields are ignored, like OpenAI's SDKs send)."""

    model: str
    messages: Annotated[list[MessageIn], msgspec.Meta(min_length=1)]
    max_tokens: Annotated[int, Meta(ge=1, le=MAX_TOKENS)] | None = None
    max_completion_tokens: Annotated[int, Meta(ge=1, le=MAX_TOKENS)] | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    n: Literal[1] | None = None  # one choice per request
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=20)] | None = None
    logit_bias: dict[str, float] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    user: str | None = None

    def extra(self) -> dict[str, Any]:
        return {k: v for k in FORWARDABLE if (v := getattr(self, k)) is not None}


class UsageOut(Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(Struct):
    content: str
    role: Literal["assistant"] = "assistant"


class Choice(Struct):
    index: int
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class ChatCompletion(Struct):
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: UsageOut | None
    object: Literal["chat.completion"] = "chat.completion"


class Delta(Struct, omit_defaults=True):
    role: str | None = None
    content: str | None = None


class ChunkChoice(Struct):
    index: int
    delta: Delta
    finish_reason: str | None = None


class ChatCompletionChunk(Struct):
    """One `data:` event of a streamed completion (documentation of the SSE stream)."""

    id: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: UsageOut | None = None
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"


class ModelOut(Struct):
    id: str
    created: int
    owned_by: str
    object: Literal["model"] = "model"


class ModelList(Struct):
    data: list[ModelOut]
    object: Literal["list"] = "list"


class EmbeddingsRequest(Struct, kw_only=True):
    input: str | list[str]
    model: str
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = None
    user: str | None = None


class Embedding(Struct):
    index: int
    embedding: list[float] | str
    object: Literal["embedding"] = "embedding"


class EmbeddingsUsage(Struct):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(Struct):
    data: list[Embedding]
    model: str
    usage: EmbeddingsUsage
    object: Literal["list"] = "list"


def encode_vector(vector: list[float], encoding: str | None) -> list[float] | str:
    """``base64`` is little-endian float32, what OpenAI's SDKs ask for by default."""
    if encoding == "base64":
        return base64.b64encode(array("f", vector).tobytes()).decode("ascii")
    return vector


_encode = msgspec.json.encode


class ChunkFramer:
    """Frames SSE `data:` events for one stream from prebuilt byte templates: per chunk only
    the text is JSON-encoded (the hot path of streaming)."""

    def __init__(self, completion_id: str, created: int) -> None:
        self._head = b'data: {"id":' + _encode(completion_id) + b',"object":"chat.completion.chunk"'
        self._head += b',"created":' + str(created).encode()
        self._model = ""
        self._prefix = b""
        self._role_sent = False

    def _for_model(self, model: str) -> bytes:
        if model != self._model:
            self._model = model
            self._prefix = self._head + b',"model":' + _encode(model) + b',"choices":[{"index":0,'
        return self._prefix

    def delta(self, model: str, text: str) -> bytes:
        prefix = self._for_model(model)
        role = b"" if self._role_sent else b'"role":"assistant",'
        self._role_sent = True
        return (
            prefix
            + b'"delta":{'
            + role
            + b'"content":'
            + _encode(text)
            + b'},"finish_reason":null}]}\n\n'
        )

    def finish(self, model: str, reason: str) -> bytes:
        prefix = self._for_model(model)
        return prefix + b'"delta":{},"finish_reason":' + _encode(reason) + b"}]}\n\n"

    def usage(self, model: str, usage: UsageOut) -> bytes:
        self._for_model(model)
        body = self._head + b',"model":' + _encode(model) + b',"choices":[],"usage":'
        return body + _encode(usage) + b"}\n\n"


DONE = b"data: [DONE]\n\n"
