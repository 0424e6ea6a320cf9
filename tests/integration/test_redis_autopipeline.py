"""The auto-pipeline's contract: replies reach the caller whose command they answer, an
error reply fails only its own caller, a connection that breaks or times out fails every
caller still waiting on it (and the next command reconnects), cancellation never
misroutes a reply, and commands issued in one loop iteration leave in one write.

Real Redis for what the server decides; a scripted socket for what only a misbehaving
server or network shows (no reply, a dropped connection, replies held back)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

from adapters.redis.autopipeline import AutoPipeline
from tests.integration.identity_stores import redis_prefix
from tests.support.backends import require_servers


class _ScriptedServer:
    """A TCP server that records what it receives and answers only when told to."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.arrived = asyncio.Event()
        self.writers: list[asyncio.StreamWriter] = []
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        while data := await reader.read(65536):
            if b"SETINFO" in data:  # the client's handshake on connect
                writer.write(b"+OK\r\n" * data.count(b"SETINFO"))
                continue
            if data == b"*1\r\n$4\r\nPING\r\n":  # a health check
                writer.write(b"+PONG\r\n")
                continue
            self.received += data
            self.arrived.set()

    async def wait_for(self, commands: int) -> None:
        while self.received.count(b"*") < commands:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 5)

    def reply(self, raw: bytes) -> None:
        self.writers[-1].write(raw)

    def drop(self) -> None:
        self.writers[-1].close()

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[_ScriptedServer, AutoPipeline]]:
    server = _ScriptedServer()
    port = await server.start()
    client = Redis(port=port, socket_timeout=0.3, protocol=2, health_check_interval=0.1)
    pipeline = AutoPipeline(client)
    try:
        yield server, pipeline
    finally:
        await pipeline.aclose()
        await client.aclose()
        await server.close()


async def test_concurrent_callers_each_get_the_reply_to_their_own_command() -> None:
    require_servers()
    async with redis_prefix() as (client, prefix):
        keys = [f"{prefix}k{i}" for i in range(50)]
        await client.mset({key: f"v{i}" for i, key in enumerate(keys)})
        pipeline = AutoPipeline(client)
        try:
            replies = await asyncio.gather(*(pipeline.mget([key]) for key in keys))
            assert replies == [[f"v{i}".encode()] for i in range(50)]
        finally:
            await pipeline.aclose()


async def test_an_error_reply_fails_only_the_caller_whose_command_it_answers() -> None:
    require_servers()
    async with redis_prefix() as (client, prefix):
        await client.set(f"{prefix}a", b"1")
        pipeline = AutoPipeline(client)
        try:
            before, wrong, after = await asyncio.gather(
                pipeline.mget([f"{prefix}a"]),
                pipeline.evalsha("0" * 40, 0),  # no such script
                pipeline.mget([f"{prefix}a"]),
                return_exceptions=True,
            )
            assert before == [b"1"] and after == [b"1"]
            assert isinstance(wrong, ResponseError)
        finally:
            await pipeline.aclose()


async def test_a_registered_script_runs_through_it_and_loads_itself_when_unknown() -> None:
    require_servers()
    async with redis_prefix() as (client, _):
        pipeline = AutoPipeline(client)
        try:
            script = client.register_script(f"return '{uuid.uuid4().hex}' .. ARGV[1]")
            first = await script(args=["x"], client=pipeline)  # type: ignore[arg-type]
            again = await script(args=["y"], client=pipeline)  # type: ignore[arg-type]
            assert first.endswith(b"x") and again.endswith(b"y")
        finally:
            await pipeline.aclose()


async def test_commands_issued_in_one_loop_iteration_leave_in_one_write() -> None:
    require_servers()
    async with redis_prefix() as (client, prefix):
        pipeline = AutoPipeline(client)
        writes: list[int] = []  # MGETs per write (connecting writes its own handshake)
        make = client.connection_pool.make_connection

        def counted() -> Any:
            connection = make()
            send = connection.send_packed_command

            async def counting(command: Any, check_health: bool = True) -> None:
                mgets = b"".join(command).count(b"MGET")
                if mgets:
                    writes.append(mgets)
                await send(command, check_health=check_health)

            connection.send_packed_command = counting  # type: ignore[method-assign]
            return connection

        client.connection_pool.make_connection = counted  # type: ignore[method-assign]
        try:
            await asyncio.gather(*(pipeline.mget([f"{prefix}{i}"]) for i in range(20)))
            assert writes == [20]
        finally:
            await pipeline.aclose()


async def test_a_dropped_connection_fails_every_waiter_and_the_next_command_reconnects(
    scripted: tuple[_ScriptedServer, AutoPipeline],
) -> None:
    server, pipeline = scripted
    waiting = [asyncio.ensure_future(pipeline.mget([f"k{i}"])) for i in range(3)]
    await server.wait_for(3)
    server.drop()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    again = asyncio.ensure_future(pipeline.mget(["k"]))
    await server.wait_for(4)
    server.reply(b"*1\r\n$1\r\nv\r\n")
    assert await again == [b"v"]
    assert server.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_next_command(
    scripted: tuple[_ScriptedServer, AutoPipeline],
) -> None:
    server, pipeline = scripted
    first = asyncio.ensure_future(pipeline.mget(["a"]))
    await server.wait_for(1)
    server.reply(b"*1\r\n$1\r\na\r\n")
    assert await first == [b"a"]
    server.drop()
    await asyncio.sleep(0.2)  # idle past the health-check interval
    again = asyncio.ensure_future(pipeline.mget(["b"]))
    await server.wait_for(2)
    server.reply(b"*1\r\n$1\r\nb\r\n")
    assert await again == [b"b"]
    assert server.connections == 2


async def test_a_server_that_stops_answering_fails_every_waiter_with_a_timeout(
    scripted: tuple[_ScriptedServer, AutoPipeline],
) -> None:
    _, pipeline = scripted
    results = await asyncio.gather(
        *(pipeline.mget([f"k{i}"]) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RedisTimeout) for r in results), results


async def test_a_caller_cancelled_after_its_command_left_does_not_shift_the_replies(
    scripted: tuple[_ScriptedServer, AutoPipeline],
) -> None:
    server, pipeline = scripted
    first = asyncio.ensure_future(pipeline.mget(["a"]))
    second = asyncio.ensure_future(pipeline.mget(["b"]))
    await server.wait_for(2)
    first.cancel()
    server.reply(b"*1\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n")
    assert await second == [b"b"]
    assert first.cancelled()


async def test_a_caller_cancelled_before_its_command_left_is_never_sent(
    scripted: tuple[_ScriptedServer, AutoPipeline],
) -> None:
    server, pipeline = scripted
    cancelled = asyncio.ensure_future(pipeline.mget(["never"]))
    kept = asyncio.ensure_future(pipeline.mget(["kept"]))
    await asyncio.sleep(0)  # both queued, nothing written yet
    cancelled.cancel()
    await server.wait_for(1)
    server.reply(b"*1\r\n$1\r\nk\r\n")
    assert await kept == [b"k"]
    assert b"never" not in server.received


async def test_a_closed_pipeline_refuses_new_commands_and_fails_those_waiting(
    scripted: tuple[_ScriptedServer, AutoPipeline],
) -> None:
    server, pipeline = scripted
    waiting = asyncio.ensure_future(pipeline.mget(["k"]))
    await server.wait_for(1)
    await pipeline.aclose()
    with pytest.raises(RedisConnectionError):
        await waiting
    with pytest.raises(RedisConnectionError):
        await pipeline.mget(["k"])


async def test_callers_cancelled_while_it_connects_are_skipped_and_the_rest_stay_aligned() -> None:
    server = _ScriptedServer()
    client = Redis(port=await server.start(), socket_timeout=0.3, protocol=2)
    connecting, go_on = asyncio.Event(), asyncio.Event()
    make_connection = client.connection_pool.make_connection

    def slow_connection() -> Any:
        connection = make_connection()
        connect = connection.connect

        async def held_connect() -> None:
            connecting.set()
            await go_on.wait()
            await connect()

        connection.connect = held_connect  # type: ignore[method-assign]
        return connection

    client.connection_pool.make_connection = slow_connection  # type: ignore[method-assign]
    pipeline = AutoPipeline(client)
    try:
        first = asyncio.ensure_future(pipeline.mget(["a"]))
        unencodable = asyncio.ensure_future(pipeline.execute("GET", None))
        gone = asyncio.ensure_future(pipeline.mget(["gone"]))
        last = asyncio.ensure_future(pipeline.mget(["c"]))
        await asyncio.wait_for(connecting.wait(), 5)
        unencodable.cancel()  # cancelled while the connection is being made
        gone.cancel()
        go_on.set()
        await server.wait_for(2)
        server.reply(b"*1\r\n$1\r\na\r\n*1\r\n$1\r\nc\r\n")
        assert await asyncio.wait_for(first, 5) == [b"a"]
        assert await asyncio.wait_for(last, 5) == [b"c"]
        assert b"gone" not in server.received
        later = asyncio.ensure_future(pipeline.mget(["d"]))
        await server.wait_for(3)
        server.reply(b"*1\r\n$1\r\nd\r\n")
        assert await asyncio.wait_for(later, 5) == [b"d"]
    finally:
        await pipeline.aclose()
        await client.aclose()
        await server.close()
