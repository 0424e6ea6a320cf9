"""Every blocking stream read of a process on one Redis connection.

A live stream waits for its next events in ``XREAD BLOCK``. With one blocked connection
per reader, 1,000 streams hold 1,000 connections (and as many timers and round trips per
burst of deltas). Here one task issues one ``XREAD`` naming every stream being followed,
each from its own cursor, and hands each stream's new entries to its followers: one
connection and one round trip for all of them, however many there are.

A follower that starts while that read is blocked would wait for the block to end; the
read is cut short instead with ``CLIENT UNBLOCK`` (answered as an empty read), and the
next one names the new stream. Entries a follower has not taken yet wait in its buffer
(a generation's log is bounded, so is that buffer). If the read fails (Redis down or
unreachable), every follower of that moment gets the error; later followers start over
on a fresh connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError

log = structlog.get_logger("parley.redis")

Entry = tuple[int, dict[bytes, bytes]]
"""One stream entry: its sequence number (the ``N`` of id ``0-N``) and its fields."""

_UNBLOCK_RETRY_S = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
_FAILURE_PAUSE_S = 0.05


class Follower:
    """One reader's view of one stream: entries after ``cursor``, in order, once."""

    __slots__ = ("_reads", "_ready", "buffer", "cursor", "error", "key")

    def __init__(self, reads: StreamReads, key: bytes, cursor: int) -> None:
        self._reads = reads
        self.key = key
        self.cursor = cursor
        """The last sequence number handed to this follower."""
        self.buffer: deque[Entry] = deque()
        self.error: BaseException | None = None
        self._ready = asyncio.Event()

    async def next_batch(self, timeout_s: float) -> list[Entry]:
        """Entries that arrived since the last call; empty if none came within the
        timeout. Raises the read's error once the shared read failed."""
        if not self.buffer and self.error is None:
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout_s)
        if self.buffer:
            batch = list(self.buffer)
            self.buffer.clear()
            return batch
        if self.error is not None:
            raise self.error
        return []

    def close(self) -> None:
        """Stop following (idempotent); the next shared read leaves this stream out."""
        self._reads.forget(self)

    def _deliver(self, entries: list[Entry]) -> None:
        fresh = [entry for entry in entries if entry[0] > self.cursor]
        if fresh:
            self.buffer.extend(fresh)
            self.cursor = fresh[-1][0]
            self._ready.set()

    def _fail(self, error: BaseException) -> None:
        self.error = error
        self._ready.set()


class StreamReads:
    """The one shared ``XREAD`` loop of a process (started by the first follower)."""

    def __init__(
        self,
        redis: Redis,
        readers: Redis,
        *,
        block_ms: int,
        count: int = 500,
        error: Callable[[BaseException], BaseException] = lambda exc: exc,
    ) -> None:
        self._redis = redis
        """Ordinary commands (``CLIENT UNBLOCK``)."""
        self._pool = readers.connection_pool
        """Where the blocking connection comes from."""
        self._block_ms = block_ms
        self._count = count
        self._error = error
        self._followers: dict[bytes, set[Follower]] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client_id: int | None = None
        self._reading = False
        self._missed = False
        """A follower joined after the read in flight was sent (so it is not in it)."""
        self._unblocking: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return sum(len(group) for group in self._followers.values())

    def follow(self, key: bytes, cursor: int) -> Follower:
        follower = Follower(self, key, cursor)
        self._followers.setdefault(key, set()).add(follower)
        self._changed.set()
        if self._reading:
            self._missed = True
            if self._unblocking is None:
                self._unblocking = asyncio.create_task(self._unblock(), name="xread-unblock")
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="generation-log-reads")
        return follower

    def forget(self, follower: Follower) -> None:
        group = self._followers.get(follower.key)
        if group is None:
            return
        group.discard(follower)
        if not group:
            del self._followers[follower.key]

    async def aclose(self) -> None:
        for task in (self._task, self._unblocking):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run(self) -> None:
        connection: AbstractConnection | None = None
        try:
            while True:
                if not self._followers:
                    self._changed.clear()
                    await self._changed.wait()
                    continue
                try:
                    if connection is None:
                        connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
                        self._client_id = await _command(connection, "CLIENT", "ID")
                    await self._read_once(connection)
                except Exception as exc:  # even a bug here must not leave followers waiting
                    if isinstance(exc, RedisError | OSError):
                        log.warning("generation_log_reads_failed", error=type(exc).__name__)
                    else:
                        log.exception("generation_log_reads_crashed")
                    self._fail_all(exc)
                    if connection is not None:
                        await _drop(self._pool, connection)
                        connection = None
                    await asyncio.sleep(_FAILURE_PAUSE_S)
        finally:
            if connection is not None:
                await _drop(self._pool, connection)

    async def _read_once(self, connection: AbstractConnection) -> None:
        streams = {key: min(f.cursor for f in group) for key, group in self._followers.items()}
        args: list[Any] = ["XREAD", "COUNT", self._count, "BLOCK", self._block_ms, "STREAMS"]
        args += list(streams)
        args += [f"0-{cursor}" for cursor in streams.values()]
        self._missed = False
        self._reading = True
        try:
            await connection.send_command(*args)
            # Generous: an answer delayed by a busy event loop is still an answer.
            reply = await connection.read_response(
                timeout=self._block_ms / 1000 + max(5.0, connection.socket_timeout or 0)
            )
        finally:
            self._reading = False
        for key, entries in _streams_of(reply):
            parsed = [_entry(raw) for raw in entries]
            read_from = streams.get(key, 0)
            for follower in list(self._followers.get(key, ())):
                # The entries run on from ``read_from``: a follower that joined during the
                # read, further back, would get them with a hole before them. It is served
                # by the next read, which starts from its cursor.
                if follower.cursor >= read_from:
                    follower._deliver(parsed)

    async def _unblock(self) -> None:
        """Cut the read in flight short so the next one names the new followers. The
        read may not have reached Redis yet (then nothing is blocked): retry briefly."""
        try:
            for pause in _UNBLOCK_RETRY_S:
                if not (self._reading and self._missed) or self._client_id is None:
                    return
                with contextlib.suppress(RedisError, OSError):
                    if await self._redis.client_unblock(self._client_id):
                        return
                await asyncio.sleep(pause)
        finally:
            self._unblocking = None

    def _fail_all(self, exc: BaseException) -> None:
        followers = [f for group in self._followers.values() for f in group]
        self._followers.clear()
        for follower in followers:
            follower._fail(self._error(exc))


async def _command(connection: AbstractConnection, *args: Any) -> Any:
    await connection.send_command(*args)
    return await connection.read_response()


async def _drop(pool: Any, connection: AbstractConnection) -> None:
    """A connection whose read was interrupted may still receive its answer: close it."""
    with contextlib.suppress(RedisError, OSError):
        await connection.disconnect()
    with contextlib.suppress(RedisError, OSError, KeyError):
        await pool.release(connection)


def _streams_of(reply: Any) -> list[tuple[bytes, list[Any]]]:
    """XREAD's answer as (key, entries): a map in RESP3, pairs in RESP2, None if empty."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [(_bytes(key), entries) for key, entries in reply.items()]
    return [(_bytes(key), entries) for key, entries in reply]


def _entry(raw: Any) -> Entry:
    stream_id, fields = raw
    flat = list(fields)
    return int(_bytes(stream_id).split(b"-", 1)[1]), dict(zip(flat[::2], flat[1::2], strict=True))


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
