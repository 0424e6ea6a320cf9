"""The OpenAI-compatible gateway: /v1/models, /v1/chat/completions, /v1/embeddings.

Thin: decode the OpenAI body, call one use case, encode OpenAI's shape. Errors use
OpenAI's error body (router-level handlers) so OpenAI clients raise their own exceptions.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import structlog
from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, Router, get, post
from litestar.params import HeaderParameter, JSONBody
from litestar.response import Stream

from application.gateway.complete_chat import ChatReply, CompleteChat, CompleteChatCommand
from application.gateway.embed_texts import EmbedTexts, EmbedTextsCommand
from application.gateway.metered_stream import token_usage
from application.identity.principal import Principal
from application.ports.llm import ChatMessage
from domain.catalog import ModelCatalog
from domain.errors import DomainError, InvalidInput
from domain.messages import TokenUsage
from entrypoints.http.openai_docs import OPENAI_ERROR_RESPONSES, CompletionOperation
from entrypoints.http.openai_errors import (
    OPENAI_EXCEPTION_HANDLERS,
    error_body,
    openai_code,
)
from entrypoints.http.openai_wire import (
    DONE,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    ChunkFramer,
    Embedding,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EmbeddingsUsage,
    MessageIn,
    ModelList,
    ModelOut,
    UsageOut,
    encode_vector,
)
from entrypoints.http.problems import status_for
from entrypoints.http.rate_limit_guard import CHAT_SEND, RATE_LIMIT_STATE, UPSTREAM_STATE
from entrypoints.http.request_metrics import OVERHEAD_DOC

log = structlog.get_logger("parley.http.v1")

_STARTED = int(time.time())
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@get(
    "/models",
    summary="List models (chat models and the embedding model)",
    responses=OPENAI_ERROR_RESPONSES,
)
@inject
async def list_models(
    catalog: FromDishka[ModelCatalog], embed: FromDishka[EmbedTexts]
) -> ModelList:
    """OpenAI-compatible model list: every configured chat model and the embedder's model."""
    data = [ModelOut(m.id, _STARTED, m.provider) for m in catalog.models]
    data.append(ModelOut(embed.model, _STARTED, "parley-embeddings"))
    return ModelList(data)


@post(
    "/chat/completions",
    status_code=200,
    summary="Create a chat completion (OpenAI-compatible; `stream: true` gives SSE)",
    responses=OPENAI_ERROR_RESPONSES,
    operation_class=CompletionOperation,
    opt={CHAT_SEND: True},
    response_headers=[OVERHEAD_DOC],
)
@inject
async def chat_completions(
    request: Request[Any, Any, Any],
    data: JSONBody[ChatCompletionRequest],
    principal: FromDishka[Principal],
    complete: FromDishka[CompleteChat],
    cache_header: Annotated[
        str | None,
        HeaderParameter(
            name="X-Parley-Cache",
            description="`on`: answer identical temperature-0 non-stream requests from "
            "your own response cache (the reply says `X-Parley-Cache: hit` or `miss`).",
        ),
    ] = None,
) -> Response[ChatCompletion]:
    """Non-stream: a `chat.completion` object. With `stream: true`: `text/event-stream` of
    `data: <chat.completion.chunk>` events ending with `data: [DONE]` (a final chunk carries
    `usage` when `stream_options.include_usage` is true). Nothing is stored."""
    command = CompleteChatCommand(
        principal=principal,
        model=data.model,
        messages=tuple(_message(m) for m in data.messages),
        max_tokens=data.max_completion_tokens or data.max_tokens,
        temperature=data.temperature,
        stream=bool(data.stream),
        n=data.n or 1,
        extra=data.extra(),
        cache_opt_in=(cache_header or "").lower() == "on",
    )
    reply = await complete(command)
    state = request.scope.setdefault("state", {})
    if reply.rate is not None:
        state[RATE_LIMIT_STATE] = reply.rate
    state[UPSTREAM_STATE] = reply.upstream_s
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if reply.completion is None:
        include_usage = bool(data.stream_options and data.stream_options.include_usage)
        events = _sse(reply, ChunkFramer(completion_id, created), include_usage)
        stream = Stream(events, media_type="text/event-stream", headers=_SSE_HEADERS)
        return stream  # type: ignore[return-value]  # documented as the JSON variant
    routed = reply.completion
    result = routed.completion
    body = ChatCompletion(
        id=completion_id,
        created=created,
        model=routed.model_id,
        choices=[Choice(0, AssistantMessage(result.content), result.finish_reason)],
        usage=_usage_out(reply.usage or token_usage(result.usage)),
    )
    headers = None
    if command.cache_opt_in:
        headers = {"X-Parley-Cache": "hit" if reply.cached else "miss"}
    return Response(body, headers=headers)


async def _sse(reply: ChatReply, framer: ChunkFramer, include_usage: bool) -> AsyncIterator[bytes]:
    chunks = reply.chunks
    assert chunks is not None
    model, finish = reply.spec.id, "stop"
    try:
        async for routed in chunks:
            model, chunk = routed.model_id, routed.chunk
            if chunk.delta:
                yield framer.delta(model, chunk.delta)
            if chunk.finish_reason:
                finish = chunk.finish_reason
        yield framer.finish(model, finish)
        if include_usage:  # the stream has ended and settled: exactly what was charged
            yield framer.usage(model, _usage_out(chunks.charged))
        yield DONE
    except DomainError as exc:  # after the headers: the error travels as an event
        log.warning("v1_stream_failed", code=exc.code, model=model)
        yield b"data: " + error_body(status_for(exc), exc.detail, openai_code(exc)) + b"\n\n"
    except Exception as exc:  # never a traceback, never a silently cut stream
        log.error("v1_stream_crashed", error_type=type(exc).__name__, model=model)
        yield b"data: " + error_body(500, "internal error", "internal_error") + b"\n\n"
    finally:
        await chunks.aclose()  # a client that left still stops the upstream and settles


def _usage_out(usage: TokenUsage | None) -> UsageOut:
    """What was charged (nothing charged: zeros); a cache hit reports its original usage."""
    if usage is None:
        return UsageOut(0, 0, 0)
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    return UsageOut(prompt, completion, prompt + completion)


def _message(m: MessageIn) -> ChatMessage:
    if m.content is None or isinstance(m.content, str):
        return ChatMessage(m.role, m.content or "")
    texts = []
    for part in m.content:
        if part.type != "text" or part.text is None:
            raise InvalidInput(
                "only text content parts are supported", details={"param": "messages"}
            )
        texts.append(part.text)
    return ChatMessage(m.role, "".join(texts))


@post("/embeddings", status_code=200, summary="Create embeddings", responses=OPENAI_ERROR_RESPONSES)
@inject
async def embeddings(
    data: JSONBody[EmbeddingsRequest],
    principal: FromDishka[Principal],
    embed: FromDishka[EmbedTexts],
) -> EmbeddingsResponse:
    """Vectors from the configured embedder (model: its id, or `default`); `encoding_format`
    `float` or `base64` (little-endian float32, what OpenAI's SDKs request by default)."""
    texts = (data.input,) if isinstance(data.input, str) else tuple(data.input)
    result = await embed(EmbedTextsCommand(principal, data.model, texts))
    items = [
        Embedding(i, encode_vector(v, data.encoding_format)) for i, v in enumerate(result.vectors)
    ]
    usage = EmbeddingsUsage(result.prompt_tokens, result.prompt_tokens)
    return EmbeddingsResponse(items, result.model, usage)


ROUTES: list[Any] = [
    Router(
        path="/v1",
        route_handlers=[list_models, chat_completions, embeddings],
        exception_handlers=OPENAI_EXCEPTION_HANDLERS,
        tags=["openai"],
    )
]
