"""Sending messages and following replies: JSON, or Server-Sent Events that can resume.

Handlers only translate: the reply runs in the process's GenerationRunner and its events are
read from the GenerationLog, so a client that disconnects loses nothing and stops nothing.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream

from application.chat.cancel_generation import CancelGeneration
from application.chat.resume_generation import ResumeGeneration, ResumeGenerationQuery
from application.chat.send_message import SendMessage, SendMessageCommand
from application.chat.views import message_view
from application.identity.principal import Principal
from entrypoints.http.routes.chat_dto import CancelAccepted, SendMessageBody, SentMessageOut
from entrypoints.http.sse import sse_response
from entrypoints.settings import Settings

EVENT_STREAM = "text/event-stream"
SSE_DOC = ResponseSpec(
    data_container=str,
    media_type=EVENT_STREAM,
    description=(
        "Server-Sent Events: `start` {generation_id, user_message, assistant_message_id}, "
        "`delta` {content}, then `done` {message} or `error` (problem body); each with an "
        "`id:` usable as `Last-Event-ID`; `: keep-alive` comments while idle."
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
    description="Streams when `stream` is true or the request accepts `text/event-stream`.",
    responses={200: SSE_DOC},
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
) -> Response[SentMessageOut]:
    streaming = data.stream or EVENT_STREAM in request.headers.get("accept", "")
    sent = await send_message(
        SendMessageCommand(
            owner_id=principal.user_id,
            conversation_id=conversation_id,
            content=data.content,
            model=data.model,
            temperature=data.temperature,
            max_tokens=data.max_tokens,
            wait=not streaming,
            plan=principal.plan,
            api_key_id=principal.api_key_id,
        )
    )
    if streaming:
        query = ResumeGenerationQuery(principal.user_id, conversation_id, sent.generation_id)
        return sse_response(await resume(query), settings.chat.keepalive_s)  # type: ignore[return-value]
    body = SentMessageOut(
        message_view(sent.user_message), message_view(sent.assistant_message), sent.generation_id
    )
    return Response(body, status_code=201)


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
    return sse_response(await resume(query), settings.chat.keepalive_s)


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
