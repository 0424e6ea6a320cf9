"""One socket's traffic: frames in, the chat use cases called, stream frames out.

Thin like every transport: ``chat`` is SendMessage (and CreateConversation when no
conversation is named), streaming is ResumeGeneration over the generation log, ``cancel`` is
CancelGeneration. Several requests stream at once, each in its own task, tagged with the
client's ``request_id``. A disconnect only stops the forwarding; generations keep running
in the process-owned runner and are stored (R19).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from dishka import AsyncContainer
from litestar import WebSocket

from application.chat.cancel_generation import CancelGeneration
from application.chat.create_conversation import CreateConversation, CreateConversationCommand
from application.chat.resume_generation import ResumeGeneration, ResumeGenerationQuery
from application.chat.send_message import SendMessage, SendMessageCommand, SentMessage
from application.chat.views import message_data
from application.ports.generation_log import GenerationEvent
from domain.errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests
from domain.messages import check_content
from entrypoints.http.websocket.connection import CLOSE_TOO_BIG, ChatSocket
from entrypoints.http.websocket.frames import (
    AuthFrame,
    CancelFrame,
    ChatFrame,
    ClientFrame,
    InvalidFrame,
    PingFrame,
    ResumeFrame,
    decode_frame,
)
from entrypoints.http.websocket.replies import (
    Ack,
    Pong,
    Ready,
    RequestKey,
    error_frame,
    event_frame,
    utc_now,
)
from entrypoints.http.websocket.services import SocketServices
from entrypoints.http.websocket.tasks import shielded

log = structlog.get_logger("parley.ws")


class DuplicateRequest(Conflict):
    code = "DUPLICATE_REQUEST_ID"
    title = "Request id already streaming"


class UnknownRequest(NotFound):
    code = "REQUEST_NOT_FOUND"
    title = "No such request on this socket"


class TooManyStreams(TooManyRequests):
    code = "TOO_MANY_STREAMS"
    title = "Too many streams on this socket"


class OtherUser(Forbidden):
    code = "AUTH_USER_MISMATCH"
    title = "A socket stays with one user"


@dataclass(slots=True)
class _Stream:
    key: RequestKey
    task: asyncio.Task[None] | None = None
    conversation_id: UUID | None = None
    generation_id: UUID | None = None
    acked: bool = False
    cancel_requested: bool = False


class SocketSession:
    __slots__ = ("_container", "_services", "_socket", "_streams")

    def __init__(
        self, socket: ChatSocket, container: AsyncContainer, services: SocketServices
    ) -> None:
        self._socket = socket
        self._container = container
        self._services = services
        self._streams: dict[RequestKey, _Stream] = {}

    async def run(self, ws: WebSocket[Any, Any, Any]) -> None:
        """Read frames until the client leaves or the socket is closed."""
        limit = self._services.limits.max_frame_bytes
        await self._socket.send(_ready(self._socket))
        while not self._socket.closed:
            event = await ws.receive()
            if event["type"] != "websocket.receive":
                return
            text = event.get("text")
            raw: str | bytes = text if text is not None else (event.get("bytes") or b"")
            if len(raw) > limit or (len(raw) * 4 > limit and len(_utf8(raw)) > limit):
                # Defence in depth: the server's own max size (1009) normally stops it first.
                await self._socket.close(CLOSE_TOO_BIG, "FRAME_TOO_LARGE")
                return
            await self.handle(raw)

    def detach(self) -> None:
        """Stop forwarding; generations themselves run on (see module docstring)."""
        self._socket.detach()
        for stream in list(self._streams.values()):
            if stream.task is not None:
                stream.task.cancel()

    async def handle(self, raw: str | bytes) -> None:
        decoded = decode_frame(raw)
        try:
            decision = await self._services.limiter.hit(
                f"ws:{self._socket.principal.user_id}", self._services.frame_rate
            )
            decision.raise_if_denied("too many WebSocket frames; slow down")
            if isinstance(raw, bytes):
                raise InvalidFrame("send JSON in text frames, not binary ones")
            if decoded.error is not None:
                raise decoded.error
            assert decoded.frame is not None
            await self._dispatch(decoded.frame)
        except DomainError as exc:
            await self._socket.send(error_frame(exc, decoded.request_id))

    async def _dispatch(self, frame: ClientFrame) -> None:
        if isinstance(frame, ChatFrame):
            await self._services.chat_limit.check(self._socket.principal.user_id)
            self._open(frame.request_id, lambda stream: self._chat(frame, stream))
        elif isinstance(frame, ResumeFrame):
            key = frame.request_id if frame.request_id is not None else str(frame.generation_id)
            self._open(key, lambda stream: self._resume(frame, stream))
        elif isinstance(frame, CancelFrame):
            await self._cancel(frame.request_id)
        elif isinstance(frame, PingFrame):
            await self._socket.send(Pong(utc_now(), frame.request_id))
        elif isinstance(frame, AuthFrame):
            await self._reauthenticate(frame.token)

    def _open(self, key: RequestKey, work: Callable[[_Stream], Coroutine[Any, Any, None]]) -> None:
        if key in self._streams:
            raise DuplicateRequest(f"request {key!r} is still streaming on this socket")
        if len(self._streams) >= self._services.limits.max_streams_per_socket:
            raise TooManyStreams(
                f"at most {self._services.limits.max_streams_per_socket} requests may "
                "stream at once on one socket"
            )
        stream = _Stream(key)
        self._streams[key] = stream
        stream.task = asyncio.create_task(work(stream))
        stream.task.add_done_callback(lambda _: self._streams.pop(key, None))

    async def _chat(self, frame: ChatFrame, stream: _Stream) -> None:
        try:
            sent = await shielded(self._send_message(frame))
        except DomainError as exc:
            await self._socket.send(error_frame(exc, stream.key))
            return
        stream.conversation_id = sent.conversation.id
        stream.generation_id = sent.generation_id
        stream.acked = await self._socket.send(_ack(stream.key, sent))
        if stream.cancel_requested:
            await self._cancel_stream(stream)
        await self._forward(stream, sent.start_event_id)

    async def _send_message(self, frame: ChatFrame) -> SentMessage:
        principal = self._socket.principal
        owner = principal.user_id
        async with self._container() as request:
            conversation_id = frame.conversation_id
            if conversation_id is None:
                # Checked first so a refused message leaves no empty conversation behind.
                check_content(frame.content, self._services.max_message_chars)
                create = await request.get(CreateConversation)
                created = await create(CreateConversationCommand(owner, model=frame.model))
                conversation_id = created.id
            send = await request.get(SendMessage)
            return await send(
                SendMessageCommand(
                    owner_id=owner,
                    conversation_id=conversation_id,
                    content=frame.content,
                    model=frame.model,
                    temperature=frame.temperature,
                    max_tokens=frame.max_tokens,
                    plan=principal.plan,
                    api_key_id=principal.api_key_id,
                )
            )

    async def _resume(self, frame: ResumeFrame, stream: _Stream) -> None:
        stream.generation_id = frame.generation_id
        await self._forward(stream, frame.after)

    async def _forward(self, stream: _Stream, after: str | None) -> None:
        assert stream.generation_id is not None
        generation = str(stream.generation_id)
        try:
            async with self._container() as request:
                resume = await request.get(ResumeGeneration)
                events = await resume(
                    ResumeGenerationQuery(
                        owner_id=self._socket.principal.user_id,
                        conversation_id=stream.conversation_id,
                        generation_id=stream.generation_id,
                        after=after,
                    )
                )
                async with aclosing(_closable(events)) as reading:
                    async for event in reading:
                        if event.kind == "start":
                            if stream.acked:
                                continue
                            stream.conversation_id = UUID(event.data["conversation_id"])
                        if not await self._socket.send(event_frame(event, stream.key, generation)):
                            return
        except DomainError as exc:
            await self._socket.send(error_frame(exc, stream.key))

    async def _cancel(self, key: RequestKey) -> None:
        stream = self._streams.get(key)
        if stream is None:
            raise UnknownRequest(f"no request {key!r} is streaming on this socket")
        if stream.generation_id is None:
            stream.cancel_requested = True  # applied as soon as the generation has started
            return
        await self._cancel_stream(stream)

    async def _cancel_stream(self, stream: _Stream) -> None:
        assert stream.generation_id is not None
        try:
            async with self._container() as request:
                cancel = await request.get(CancelGeneration)
                await cancel(
                    self._socket.principal.user_id, stream.conversation_id, stream.generation_id
                )
        except DomainError as exc:
            await self._socket.send(error_frame(exc, stream.key))

    async def _reauthenticate(self, token: str) -> None:
        """A fresh access token (after a refresh) keeps the socket open past the old one's
        expiry; it must belong to the same user."""
        principal = await self._services.authenticate(token)
        if principal.user_id != self._socket.principal.user_id:
            raise OtherUser("this socket is authenticated as another user")
        self._socket.authenticated_as(principal, token)
        await self._socket.send(_ready(self._socket))


def _ready(socket: ChatSocket) -> Ready:
    expires = socket.principal.expires_at
    return Ready(
        user_id=str(socket.principal.user_id),
        expires_at=expires.isoformat().replace("+00:00", "Z") if expires else None,
    )


def _ack(key: RequestKey, sent: SentMessage) -> Ack:
    return Ack(
        request_id=key,
        conversation_id=str(sent.conversation.id),
        generation_id=str(sent.generation_id),
        user_message=message_data(sent.user_message),
        assistant_message_id=str(sent.assistant_message.id),
        event_id=sent.start_event_id,
    )


async def _closable(
    events: AsyncIterator[GenerationEvent],
) -> AsyncGenerator[GenerationEvent, None]:
    """Wraps the log's iterator so leaving early always closes it (and its reader)."""
    try:
        async for event in events:
            yield event
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()


def _utf8(raw: str | bytes) -> bytes:
    return raw.encode() if isinstance(raw, str) else raw
