"""Sending messages and following replies: JSON, or Server-Sent Events that can resume.

Handlers only translate: the reply runs in the process's GenerationRunner and its events are
read from the GenerationLog, so a client that disconnects loses nothing and stops nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream

from application.chat.cancel_generation import CancelGeneration
from application.chat.generation_events import GenerationInterrupted
from application.chat.resume_generation import ResumeGeneration, ResumeGenerationQuery
from application.chat.send_message import SendMessage, SendMessageCommand, SentMessage
from application.chat.views import conversation_view, message_view
from application.identity.principal import Principal
from domain.messages import INTERRUPTED, MessageStatus
from entrypoints.http.rate_limit_guard import CHAT_SEND, RATE_LIMIT_STATE, UPSTREAM_STATE
from entrypoints.http.request_metrics import OVERHEAD_DOC
from entrypoints.http.routes.chat_dto import (
    CancelAccepted,
    SendMessageBody,
    SentMessageOut,
    StartedTurnOut,
    StartTurnBody,
)
from entrypoints.http.sse import sse_response
from entrypoints.settings import Settings

T = TypeVar("T")
EVENT_STREAM = "text/event-stream"
CacheHeader = Annotated[
    str | None,
    HeaderParameter(
        name="X-Parley-Cache",
        required=False,
        description="`on`: a non-stream send at temperature 0 may be answered from your own "
        "completion cache, keyed by you, the model and the full prompt (history and "
        "context included); the reply says `X-Parley-Cache: hit` or `miss` and `cached`.",
    ),
]
SHUTDOWN_DOC = (
    "While the instance shuts down: 503 `SHUTTING_DOWN` (send it to another instance); a "
    "non-stream reply the shutdown stopped is 503 `INTERRUPTED` (its partial text is stored "
    "as `failed`)."
)
SSE_DOC = ResponseSpec(
    data_container=str,
    media_type=EVENT_STREAM,
    description=(
        "Server-Sent Events: `start` {generation_id, user_message, assistant_message_id}, "
        "`delta` {content}, then `done` {message} or `error` (problem body); each with an "
        "`id:` usable as `Last-Event-ID` (an `error` from the stream itself, such as "
        "`GENERATION_LOG_UNAVAILABLE`, repeats the last id you have, so resuming with it "
        "misses nothing); `: keep-alive` comments while idle. A reply stopped by a server "
        "shutdown ends with `error` `INTERRUPTED` carrying the stored `message`."
    ),
    examples=[
        Example(
            value='id: 1\nevent: start\ndata: {"generation_id":"..."}\n\n'
            'id: 2\nevent: delta\ndata: {"content":"Hel"}\n\n'
        )
    ],
)


@post(
    "/{conversation_id:uuid}/messages",
    status_code=201,
    summary="Send a message; get the reply as JSON (201) or as an SSE stream (200)",
    description="Streams when `stream` is true or the request accepts `text/event-stream`. "
    + SHUTDOWN_DOC,
    responses={200: SSE_DOC},
    opt={CHAT_SEND: True},
    response_headers=[OVERHEAD_DOC],
)
@inject
async def send(
    conversation_id: FromPath[UUID],
    data: JSONBody[SendMessageBody],
    request: Request[Any, Any, Any],
    principal: FromDishka[Principal],
    send_message: FromDishka[SendMessage],
    resume: FromDishka[ResumeGeneration],
    settings: FromDishka[Settings],
    cache_header: CacheHeader = None,
) -> Response[SentMessageOut]:
    command = _command(
        principal, conversation_id, data, _wants_stream(data.stream, request),
        cache=_opted_in(cache_header),
    )  # fmt: skip
    return await _turn(command, request, principal, send_message, resume, settings, _sent_out)


@post(
    "/messages",
    status_code=201,
    summary="Send a message to a new (or a named) conversation in one call",
    description="Without `conversation_id`, the conversation is created with the turn, in "
    "the same write: a refused message leaves nothing behind. JSON (201) or SSE (200) "
    "as for `POST /{id}/messages`; the `start` event names the conversation. " + SHUTDOWN_DOC,
    responses={200: SSE_DOC},
    opt={CHAT_SEND: True},
    response_headers=[OVERHEAD_DOC],
)
@inject
async def send_new(
    data: JSONBody[StartTurnBody],
    request: Request[Any, Any, Any],
    principal: FromDishka[Principal],
    send_message: FromDishka[SendMessage],
    resume: FromDishka[ResumeGeneration],
    settings: FromDishka[Settings],
    cache_header: CacheHeader = None,
) -> Response[StartedTurnOut]:
    command = _command(
        principal, data.conversation_id, data, _wants_stream(data.stream, request),
        data.system_prompt, cache=_opted_in(cache_header),
    )  # fmt: skip
    return await _turn(command, request, principal, send_message, resume, settings, _started_out)


async def _turn(
    command: SendMessageCommand,
    request: Request[Any, Any, Any],
    principal: Principal,
    send_message: SendMessage,
    resume: ResumeGeneration,
    settings: Settings,
    body: Callable[[SentMessage], T],
) -> Response[T]:
    """Both send routes: run the turn, then stream its events or answer with ``body``."""
    sent = await send_message(command)
    _publish(request, sent)
    if not command.wait:
        return await _stream(sent, principal, resume, settings)  # type: ignore[return-value]
    _refuse_interrupted(sent)
    return Response(body(sent), status_code=201, headers=_cache_headers(command, sent))


def _sent_out(sent: SentMessage) -> SentMessageOut:
    return SentMessageOut(
        message_view(sent.user_message), message_view(sent.assistant_message), sent.generation_id,
        _millis(sent), sent.cached,
    )  # fmt: skip


def _started_out(sent: SentMessage) -> StartedTurnOut:
    return StartedTurnOut(
        conversation_view(sent.conversation), message_view(sent.user_message),
        message_view(sent.assistant_message), sent.generation_id, _millis(sent), sent.cached,
    )  # fmt: skip


def _wants_stream(stream: bool, request: Request[Any, Any, Any]) -> bool:
    return stream or EVENT_STREAM in request.headers.get("accept", "")


def _command(
    principal: Principal,
    conversation_id: UUID | None,
    data: SendMessageBody | StartTurnBody,
    streaming: bool,
    system_prompt: str | None = None,
    *,
    cache: bool = False,
) -> SendMessageCommand:
    return SendMessageCommand(
        owner_id=principal.user_id,
        conversation_id=conversation_id,
        content=data.content,
        model=data.model,
        temperature=data.temperature,
        max_tokens=data.max_tokens,
        wait=not streaming,
        plan=principal.plan,
        api_key_id=principal.api_key_id,
        system_prompt=system_prompt,
        cache=cache,
    )


def _refuse_interrupted(sent: SentMessage) -> None:
    """A reply the server stopped (a shutdown) is no answer: 503, retry elsewhere. The text
    it had is stored, as ``failed`` with ``INTERRUPTED``."""
    reply = sent.assistant_message
    if reply.status is MessageStatus.FAILED and reply.error_code == INTERRUPTED:
        raise GenerationInterrupted(
            "the server stopped before the reply finished; the partial reply is stored as "
            f"failed (message {reply.id}); send again"
        )


def _opted_in(header: str | None) -> bool:
    return (header or "").strip().lower() == "on"


def _millis(sent: SentMessage) -> int:
    return round(sent.response_s * 1000)


def _cache_headers(command: SendMessageCommand, sent: SentMessage) -> dict[str, str] | None:
    """Opted-in non-stream sends say whether the cache answered, as /v1 does."""
    if not command.cache:
        return None
    return {"X-Parley-Cache": "hit" if sent.cached else "miss"}


def _publish(request: Request[Any, Any, Any], sent: SentMessage) -> None:
    """For the response's headers: the chat-send limit's decision (RateLimit-*) and the
    time spent waiting on the model (``X-Parley-Overhead-Ms`` is the rest)."""
    state = request.scope.setdefault("state", {})
    if sent.rate is not None:
        state[RATE_LIMIT_STATE] = sent.rate
    state[UPSTREAM_STATE] = sent.upstream_s


async def _stream(
    sent: SentMessage, principal: Principal, resume: ResumeGeneration, settings: Settings
) -> Stream:
    query = ResumeGenerationQuery(principal.user_id, sent.conversation.id, sent.generation_id)
    return sse_response(await resume(query), settings.chat.keepalive_s)


@get(
    "/{conversation_id:uuid}/generations/{generation_id:uuid}/events",
    summary="Follow or resume a reply's event stream (SSE)",
    description="Replays every event after `after` (or the `Last-Event-ID` header), then "
    "follows live events until `done` or `error`. Disconnecting never stops the reply.",
    media_type=EVENT_STREAM,
    responses={200: SSE_DOC},
)
@inject
async def generation_events(
    conversation_id: FromPath[UUID],
    generation_id: FromPath[UUID],
    principal: FromDishka[Principal],
    resume: FromDishka[ResumeGeneration],
    settings: FromDishka[Settings],
    # Plain strings, empty when absent: a header cannot be null, and documenting one as
    # "string or null" invites clients (and schema-driven tests) to send the text "null".
    # (A malformed id is INVALID_EVENT_ID from the log; its format is documented by
    # openapi_contract.)
    after: Annotated[
        str, QueryParameter(max_length=20, description="Last event id already received")
    ] = "",
    last_event_id: Annotated[
        str, HeaderParameter(name="Last-Event-ID", max_length=20, required=False)
    ] = "",
) -> Stream:
    query = ResumeGenerationQuery(
        principal.user_id, conversation_id, generation_id, after or last_event_id
    )
    return sse_response(await resume(query), settings.chat.keepalive_s, after=query.after)


@post(
    "/{conversation_id:uuid}/generations/{generation_id:uuid}/cancel",
    status_code=202,
    summary="Stop a reply; its text so far is kept as a cancelled message",
)
@inject
async def cancel_generation(
    conversation_id: FromPath[UUID],
    generation_id: FromPath[UUID],
    principal: FromDishka[Principal],
    use_case: FromDishka[CancelGeneration],
) -> CancelAccepted:
    await use_case(principal.user_id, conversation_id, generation_id)
    return CancelAccepted(generation_id)
