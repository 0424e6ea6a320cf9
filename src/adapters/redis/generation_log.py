"""Generation log on Redis Streams: any instance appends, any instance resumes or cancels.

Keys (under the configured prefix), all expiring ``ttl_s`` after their last write:
- ``gen:{id}:events``: a stream with ids ``0-1``, ``0-2``, ... (``XADD 0-*``), so the public
  event id is the sequence number and a reader can tell a trimmed range from a gap-free one;
- ``gen:{id}:info``: owner, conversation and message of the generation;
- ``gen:{id}:cancel``: the cancel flag. Runners poll the flags of all their generations with
  one ``MGET`` per interval, so cancel crosses instances without a connection per stream.

Readers wait for new events through one shared ``XREAD`` per process (``StreamReads``):
one blocked connection, taken from ``readers``, follows every live stream at once, so the
number of streams never decides the number of connections, and a blocked read never
holds a connection that token checks, rate limits or appends need. Needs Redis 7+.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from adapters.redis.stream_reads import Entry, StreamReads
from application.ports.generation_log import (
    EventsExpired,
    GenerationEvent,
    GenerationInfo,
    GenerationLogUnavailable,
    SharedGenerationLog,
    parse_event_id,
)
from domain.messages import GenerationNotFound

T = TypeVar("T")
log = structlog.get_logger("parley.redis")


class RedisGenerationLog(SharedGenerationLog):
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        readers: Redis | None = None,
        ttl_s: int = 3600,
        max_events: int = 10_000,
        block_ms: int = 500,
        cancel_poll_s: float = 0.25,
    ) -> None:
        self._redis = redis
        self._reads = StreamReads(redis, readers or redis, block_ms=block_ms, error=_unavailable)
        self._prefix = f"{prefix}gen:"
        self._ttl_s = ttl_s
        self._max_events = max_events
        self._block_ms = block_ms
        self._cancel_poll_s = cancel_poll_s
        self._cancel_waiters: dict[UUID, tuple[asyncio.Event, int]] = {}
        self._poller: asyncio.Task[None] | None = None

    @property
    def readers_following(self) -> int:
        """Reads of this process waiting for new events (all in one shared XREAD)."""
        return len(self._reads)

    async def begin(self, info: GenerationInfo) -> None:
        key = self._key(info.generation_id, "info")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping=_info_mapping(info))
            pipe.expire(key, self._ttl_s)
            await _guard(pipe.execute)

    async def open(self, info: GenerationInfo, first: GenerationEvent) -> str:
        """The info hash and the first event in one pipelined round trip."""
        info_key = self._key(info.generation_id, "info")
        events = self._key(info.generation_id, "events")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(info_key, mapping=_info_mapping(info))
            self._xadd(pipe, events, first)
            pipe.expire(info_key, self._ttl_s)
            pipe.expire(events, self._ttl_s)
            results = await _guard(pipe.execute)
        return _seq(results[1])

    async def info(self, generation_id: UUID) -> GenerationInfo | None:
        raw = await _guard(lambda: self._redis.hgetall(self._key(generation_id, "info")))
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return GenerationInfo(
            generation_id,
            UUID(fields["owner"]),
            UUID(fields["conversation"]),
            UUID(fields["message"]),
        )

    async def append(self, generation_id: UUID, event: GenerationEvent) -> str:
        return (await self.append_many(generation_id, [event]))[0]

    async def append_many(self, generation_id: UUID, events: list[GenerationEvent]) -> list[str]:
        """One pipelined round trip for the whole burst (and one pair of EXPIREs).

        The info's EXPIRE doubles as a check that Redis still holds this generation: after
        a restart without persistence (or a flush) it answers 0, and the append is reported
        as failed, so the runner restores the whole log instead of writing a tail to it."""
        key = self._key(generation_id, "events")
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                self._xadd(pipe, key, event)
            pipe.expire(key, self._ttl_s)
            pipe.expire(self._key(generation_id, "info"), self._ttl_s)
            results = await _guard(pipe.execute)
        if not results[-1]:
            raise GenerationLogUnavailable("stream storage lost this generation's events")
        return [_seq(stream_id) for stream_id in results[: len(events)]]

    async def restore(self, info: GenerationInfo, events: list[GenerationEvent]) -> None:
        """One MULTI: the old stream (a prefix, a tail after a restart, or nothing) is
        replaced by every event under its own id, with the info; readers never see a gap."""
        info_key = self._key(info.generation_id, "info")
        key = self._key(info.generation_id, "events")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(info_key, mapping=_info_mapping(info))
            for event in events:
                self._xadd(pipe, key, event)
            pipe.expire(key, self._ttl_s)
            pipe.expire(info_key, self._ttl_s)
            await _guard(pipe.execute)

    async def read(
        self, generation_id: UUID, after: str | None = None
    ) -> AsyncIterator[GenerationEvent]:
        cursor = parse_event_id(after)
        key = self._key(generation_id, "events")
        last: Any = await _guard(lambda: self._redis.xrevrange(key, count=1))
        if not last and not await _guard(
            lambda: self._redis.exists(self._key(generation_id, "info"))
        ):
            raise GenerationNotFound(f"generation {generation_id} not found")
        if last and _event(last[0]).is_terminal and int(_seq(last[0][0])) <= cursor:
            return  # the client already has the terminal event
        follower = self._reads.follow(key.encode(), cursor)
        try:
            checked_gap = False
            while True:
                entries = await follower.next_batch(self._block_ms / 1000)
                if not entries:
                    if not await _guard(
                        lambda: self._redis.exists(key, self._key(generation_id, "info"))
                    ):
                        raise GenerationNotFound(f"generation {generation_id} expired")
                    continue
                if not checked_gap:
                    checked_gap = True
                    if entries[0][0] > cursor + 1:
                        raise EventsExpired(
                            "events after this id were trimmed; read the stored message"
                        )
                for entry in entries:
                    event = _followed(entry)
                    yield event
                    if event.is_terminal:
                        return
        finally:
            follower.close()

    async def snapshot(self, generation_id: UUID) -> list[GenerationEvent]:
        entries: Any = await _guard(lambda: self._redis.xrange(self._key(generation_id, "events")))
        return [_event(entry) for entry in entries]

    async def request_cancel(self, generation_id: UUID) -> None:
        await _guard(
            lambda: self._redis.set(self._key(generation_id, "cancel"), b"1", ex=self._ttl_s)
        )
        waiter = self._cancel_waiters.get(generation_id)
        if waiter is not None:  # runs in this process: no need to wait for the poll
            waiter[0].set()

    async def wait_for_cancel(self, generation_id: UUID) -> None:
        event, waiting = self._cancel_waiters.get(generation_id, (asyncio.Event(), 0))
        self._cancel_waiters[generation_id] = (event, waiting + 1)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll_cancels(), name="generation-cancels")
        try:
            await event.wait()
        finally:
            event, waiting = self._cancel_waiters[generation_id]
            if waiting <= 1:
                del self._cancel_waiters[generation_id]
            else:
                self._cancel_waiters[generation_id] = (event, waiting - 1)

    async def aclose(self) -> None:
        await self._reads.aclose()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def _poll_cancels(self) -> None:
        """One MGET for every generation waiting here, each interval, while any waits."""
        while self._cancel_waiters:
            ids = list(self._cancel_waiters)
            try:
                flags = await self._redis.mget([self._key(i, "cancel") for i in ids])
            except (RedisError, OSError) as exc:
                log.warning("cancel_poll_failed", error=type(exc).__name__)
                flags = [None] * len(ids)
            for generation_id, flag in zip(ids, flags, strict=True):
                waiter = self._cancel_waiters.get(generation_id)
                if flag is not None and waiter is not None:
                    waiter[0].set()
            await asyncio.sleep(self._cancel_poll_s)

    def _key(self, generation_id: UUID, part: str) -> str:
        return f"{self._prefix}{generation_id}:{part}"

    def _xadd(self, pipe: Pipeline, key: str, event: GenerationEvent) -> None:
        """Queue ``event`` on the stream at ``key``, under its own id when it has one."""
        fields: dict[Any, Any] = {"k": event.kind, "d": _encode(event.data)}
        pipe.xadd(key, fields, id=_stream_id(event), maxlen=self._max_events, approximate=True)


def _info_mapping(info: GenerationInfo) -> dict[Any, Any]:
    return {
        "owner": str(info.owner_id),
        "conversation": str(info.conversation_id),
        "message": str(info.message_id),
    }


async def _guard(call: Callable[[], Awaitable[T]]) -> T:
    """Redis failures become ``GenerationLogUnavailable``; nothing else is caught."""
    try:
        return await call()
    except (RedisError, OSError) as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: BaseException) -> GenerationLogUnavailable:
    error = GenerationLogUnavailable("stream storage is unreachable; try again shortly")
    error.__cause__ = exc
    return error


def _encode(data: dict[str, Any]) -> bytes:
    return _ENCODE(data)


_ENCODE = msgspec.json.Encoder().encode
_DECODE = msgspec.json.Decoder().decode


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stream_id(event: GenerationEvent) -> str:
    """The event's own id when it has one (its runner numbers it), else the next one."""
    return f"0-{event.id}" if event.id else "0-*"


def _seq(stream_id: Any) -> str:
    return _text(stream_id).split("-", 1)[1]


def _followed(entry: Entry) -> GenerationEvent:
    seq, fields = entry
    return GenerationEvent(fields[b"k"].decode(), _DECODE(fields[b"d"]), str(seq))  # type: ignore[arg-type]


def _event(entry: Any) -> GenerationEvent:
    stream_id, fields = entry
    data = _DECODE(fields[b"d"])
    return GenerationEvent(fields[b"k"].decode(), data, _seq(stream_id))
