"""The requests streaming on one socket, each in its own task, tagged with its request id.

``chat`` is SendMessage (which creates the conversation when none is named), ``resume`` re-
reads one through ResumeGeneration, ``cancel`` goes to CancelGeneration. Forwarding only
reads the generation log: stopping it (the client left) never stops the generation itself.
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

from application.chat.cancel_generation import CancelGeneration
from application.chat.resume_generation import ResumeGeneration, ResumeGenerationQuery
from application.chat.send_message import SendMessage, SendMessageCommand, SentMessage
from application.ports.generation_log import GenerationEvent
from domain.errors import Conflict, DomainError, NotFound, TooManyRequests
from entrypoints.http.websocket.connection import ChatSocket
from entrypoints.http.websocket.frames import ChatFrame, ResumeFrame
from entrypoints.http.websocket.replies import RequestKey, ack_frame, error_frame, event_frame
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


@dataclass(slots=True)
class _Stream:
    key: RequestKey
    task: asyncio.Task[None] | None = None
    conversation_id: UUID | None = None
    generation_id: UUID | None = None
    acked: bool = False
    cancel_requested: bool = False


Work = Callable[[_Stream], Coroutine[Any, Any, None]]


class SocketStreams:
    __slots__ = ("_container", "_max", "_socket", "_streams")

    def __init__(self, socket: ChatSocket, container: AsyncContainer, max_streams: int) -> None:
        self._socket = socket
        self._container = container
        self._max = max_streams
        self._streams: dict[RequestKey, _Stream] = {}

    def check_can_open(self, key: RequestKey) -> None:
        if key in self._streams:
            raise DuplicateRequest(f"request {key!r} is still streaming on this socket")
        if len(self._streams) >= self._max:
            raise TooManyStreams(f"at most {self._max} requests may stream at once on a socket")

    def chat(self, frame: ChatFrame) -> None:
        self._open(frame.request_id, lambda stream: self._chat(frame, stream))

    def resume(self, frame: ResumeFrame) -> None:
        key = frame.request_id if frame.request_id is not None else str(frame.generation_id)
        self._open(key, lambda stream: self._resume(frame, stream))

    async def cancel(self, key: RequestKey) -> None:
        stream = self._streams.get(key)
        if stream is None:
            raise UnknownRequest(f"no request {key!r} is streaming on this socket")
        if stream.generation_id is None:
            stream.cancel_requested = True  # applied as soon as the generation has started
            return
        await self._cancel_generation(stream)

    def stop_forwarding(self) -> None:
        for stream in list(self._streams.values()):
            if stream.task is not None:
                stream.task.cancel()

    def _open(self, key: RequestKey, work: Work) -> None:
        self.check_can_open(key)
        stream = _Stream(key)
        self._streams[key] = stream
        stream.task = asyncio.create_task(work(stream))
        stream.task.add_done_callback(lambda _: self._streams.pop(key, None))

    async def _chat(self, frame: ChatFrame, stream: _Stream) -> None:
        self._socket.chat_starting()
        started = None
        try:
            # Shielded: a socket that goes away mid-start must not leave a stored message
            # whose reply never started.
            sent = await shielded(self._send(frame))
            started = sent.generation_id
        except DomainError as exc:
            await self._socket.send(error_frame(exc, stream.key))
            return
        finally:
            self._socket.chat_started(started)
        stream.conversation_id = sent.conversation.id
        stream.generation_id = sent.generation_id
        stream.acked = await self._socket.send(ack_frame(stream.key, sent))
        if stream.cancel_requested:
            await self._cancel_generation(stream)
        await self._forward(stream, sent.start_event_id)

    async def _send(self, frame: ChatFrame) -> SentMessage:
        principal = self._socket.principal
        async with self._container() as request:
            send = await request.get(SendMessage)
            return await send(
                SendMessageCommand(
                    owner_id=principal.user_id,
                    conversation_id=frame.conversation_id,
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
        query = ResumeGenerationQuery(
            owner_id=self._socket.principal.user_id,
            conversation_id=stream.conversation_id,
            generation_id=stream.generation_id,
            after=after,
        )
        last_id = after or "0"
        try:
            async with self._container() as request:
                events = await (await request.get(ResumeGeneration))(query)
                async with aclosing(_closable(events)) as reading:
                    async for event in reading:
                        last_id = event.id
                        if event.kind == "start":
                            if stream.acked:  # the ack went out already (log was late)
                                continue
                            stream.conversation_id = UUID(event.data["conversation_id"])
                        if not await self._socket.send(event_frame(event, stream.key, generation)):
                            return
        except DomainError as exc:
            log.warning("ws_stream_broken", code=exc.code, generation_id=generation)
            # Names the generation and the last event id the client has: a `resume` with
            # them continues without a gap once the log is reachable again.
            broken = error_frame(exc, stream.key)
            broken.generation_id, broken.event_id = generation, last_id
            await self._socket.send(broken)

    async def _cancel_generation(self, stream: _Stream) -> None:
        assert stream.generation_id is not None
        owner = self._socket.principal.user_id
        try:
            async with self._container() as request:
                cancel = await request.get(CancelGeneration)
                await cancel(owner, stream.conversation_id, stream.generation_id)
        except DomainError as exc:
            await self._socket.send(error_frame(exc, stream.key))


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
