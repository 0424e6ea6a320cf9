"""Auto-pipelining: the commands that coroutines issue while the loop runs one iteration
leave together, in one write on one connection, and their replies are read back in order.

A request checks its token, counts its rate limit and reserves its quota; with many
requests in flight each of those is one more write, one more read and one more wake-up
of Redis and of this process. Here the commands of every request that issued one in the
same loop iteration share those: under load a round trip carries many commands, alone
one command costs what it did. Commands keep being written while earlier replies are
still on their way (replies come back in the order commands were sent), so nothing
waits for an earlier batch to come back before it is sent.

Only for short, non-blocking commands (reads, Lua scripts): a blocking read would hold
up every command behind it on the one connection.

redis-py (8.1) has no such mode; this offers the two calls the stores use, ``mget`` and
``evalsha`` (with ``script_load``, so ``register_script`` objects run through it as
``script(keys=..., args=..., client=pipeline)``), and returns what redis-py returns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError


class _Link:
    """One connection and the replies it still owes, oldest first. A link that failed is
    never used again: whatever it owed fails, the next command opens a new one."""

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self.owed: deque[asyncio.Future[Any]] = deque()
        self.has_owed = asyncio.Event()
        self.broken = False
        self.reader: asyncio.Task[None] | None = None

    def fail(self, exc: BaseException) -> None:
        self.broken = True
        _fail(list(self.owed), exc)
        self.owed.clear()


class AutoPipeline:
    """One connection per process, opened on first use and again after a failure.

    Guarantees: replies go to the caller whose command they answer; an error reply
    (``ResponseError``) fails only its own caller; a connection that breaks or times out
    fails every caller still waiting on it, with the error redis-py would raise; a
    caller cancelled before its command was written is never sent, one cancelled after
    simply does not get the reply."""

    def __init__(self, redis: Redis) -> None:
        self._pool = redis.connection_pool
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._link: _Link | None = None
        self._closed = False

    async def mget(self, keys: list[str]) -> list[bytes | str | None]:
        reply: list[bytes | str | None] = await self.execute("MGET", *keys)
        return reply

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        return await self.execute("EVALSHA", sha, numkeys, *keys_and_args)

    async def script_load(self, script: str | bytes) -> str:
        sha: bytes | str = await self.execute("SCRIPT", "LOAD", script)
        return sha.decode() if isinstance(sha, bytes) else sha

    async def execute(self, *args: Any) -> Any:
        if self._closed:
            raise _closed()
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((args, waiter))
        self._wake.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="redis-autopipe")
        return await waiter

    async def aclose(self) -> None:
        self._closed = True
        closed = _closed()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        _fail([w for _, w in self._pending], closed)
        self._pending.clear()
        if self._link is not None:
            await self._drop(self._link, closed)

    async def _write_forever(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch = [(args, w) for args, w in self._pending if not w.done()]
                self._pending.clear()
                try:
                    await self._write(batch)
                except asyncio.CancelledError:
                    _fail([w for _, w in batch], _closed())
                    raise
                except Exception as exc:  # a bug: fail this batch, keep serving the rest
                    _fail([w for _, w in batch], exc)
        finally:  # closed (cancelled): nobody queued meanwhile is left waiting forever
            _fail([w for _, w in self._pending], _closed())
            self._pending.clear()

    async def _write(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        if not batch:
            return
        try:
            link = await self._connected()
        except (RedisError, OSError) as exc:
            _fail([w for _, w in batch], exc)
            return
        connection = link.connection
        packed: list[bytes] = []
        sent: list[asyncio.Future[Any]] = []
        for args, waiter in batch:
            if waiter.done():  # cancelled while the connection was being made
                continue
            try:  # an argument that cannot be encoded fails its own caller only
                packed.extend(connection.pack_command(*args))
            except (RedisError, TypeError, ValueError) as exc:
                waiter.set_exception(exc)
                continue
            sent.append(waiter)
        if not sent:
            return
        # Owed before the write (a reply can arrive before the write returns), and only
        # what is about to be written, so an owed reply always has its command sent.
        link.owed.extend(sent)
        link.has_owed.set()
        try:
            await connection.send_packed_command(packed, check_health=False)
        except Exception as exc:  # redis-py has disconnected it: its replies are lost
            await self._drop(link, exc)

    async def _connected(self) -> _Link:
        link = self._link
        if link is not None and not link.broken:
            if link.owed:
                return link
            # Idle for the pool's health-check interval: PING first (reconnecting if the
            # server closed it meanwhile, as redis-py's pooled connections do), so a
            # connection that died while idle does not fail the next callers.
            try:
                await link.connection.check_health()  # type: ignore[no-untyped-call]
            except (RedisError, OSError):
                await self._drop(link, _closed())
            else:
                return link
        connection: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        await connection.connect()  # type: ignore[no-untyped-call]
        link = _Link(connection)
        link.reader = asyncio.create_task(self._read_forever(link), name="redis-autopipe-read")
        self._link = link
        return link

    async def _read_forever(self, link: _Link) -> None:
        try:
            await self._read(link)
        except Exception as exc:  # a bug: nobody is left waiting forever
            await self._drop(link, RedisConnectionError(f"Redis pipeline reader failed: {exc!r}"))

    async def _read(self, link: _Link) -> None:
        connection = link.connection
        while not link.broken:
            if not link.owed:
                link.has_owed.clear()
                await link.has_owed.wait()
                continue
            try:
                reply = await connection.read_response()
            except ResponseError as exc:
                reply = exc
            except (RedisError, OSError) as exc:
                await self._drop(link, exc)
                return
            if not link.owed:  # dropped meanwhile
                return
            waiter = link.owed.popleft()
            if waiter.done():  # its caller was cancelled
                continue
            if isinstance(reply, ResponseError):
                waiter.set_exception(reply)
            else:
                waiter.set_result(reply)

    async def _drop(self, link: _Link, exc: BaseException) -> None:
        link.fail(exc)
        link.has_owed.set()
        if self._link is link:
            self._link = None
        reader = link.reader
        if reader is not None and reader is not asyncio.current_task() and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        with contextlib.suppress(RedisError, OSError):
            await link.connection.disconnect(nowait=True)


def _fail(waiters: list[asyncio.Future[Any]], exc: BaseException) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(exc)


def _closed() -> RedisConnectionError:
    return RedisConnectionError("the Redis pipeline is closed")
