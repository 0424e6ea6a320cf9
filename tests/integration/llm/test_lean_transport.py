"""The lean HTTP/1.1 transport under the openai SDK, over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx2
import pytest

from adapters.llm.lean_transport import LeanTransport
from tests.support.mock_openai import Fault

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def transport() -> AsyncIterator[LeanTransport]:
    made = LeanTransport()
    yield made
    await made.aclose()


async def test_keep_alive_connections_are_reused(mock, transport) -> None:
    async with httpx2.AsyncClient(transport=transport) as client:
        for _ in range(3):
            response = await client.post(f"{mock.url}/chat/completions", json=BODY)
            assert response.status_code == 200 and response.json()["choices"]
    assert transport.connections_opened == 1


async def test_a_stream_left_at_done_is_drained_back_into_the_pool(mock, transport) -> None:
    async with httpx2.AsyncClient(transport=transport) as client:
        for _ in range(2):
            request = client.build_request(
                "POST", f"{mock.url}/chat/completions", json={**BODY, "stream": True}
            )
            response = await client.send(request, stream=True)
            async for line in response.aiter_lines():
                if line == "data: [DONE]":
                    break
            await response.aclose()
            await asyncio.sleep(0.05)  # the drain runs in the background
    assert transport.connections_opened == 1


async def test_an_endless_stream_abandoned_mid_way_is_closed_not_reused(mock, transport) -> None:
    mock.script("endless", [Fault(endless=True)])
    async with httpx2.AsyncClient(transport=transport) as client:
        body = {**BODY, "model": "endless", "stream": True}
        request = client.build_request("POST", f"{mock.url}/chat/completions", json=body)
        response = await client.send(request, stream=True)
        await response.aclose()
        await asyncio.sleep(0.6)  # the bounded drain gives up
        assert (await client.post(f"{mock.url}/chat/completions", json=BODY)).status_code == 200
    assert transport.connections_opened == 2


async def raw_server(reply: Callable[[int], bytes]) -> tuple[asyncio.Server, str]:
    """Answers each request on a connection with ``reply(n)``; ``n`` counts connections."""
    opened = [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened[0] += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply(opened[0]))
            await writer.drain()
        finally:
            writer.close()  # one response per connection, without saying so

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_a_keep_alive_connection_the_server_dropped_is_retried_once(transport) -> None:
    server, url = await raw_server(lambda n: OK)
    async with server, httpx2.AsyncClient(transport=transport) as client:
        first = await client.post(url, content=b"x")
        await asyncio.sleep(0.05)
        second = await client.post(url, content=b"x")
    assert first.text == second.text == "ok"
    assert transport.connections_opened == 2


async def test_a_body_delimited_by_closing_the_connection_is_read_whole(transport) -> None:
    server, url = await raw_server(lambda n: b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
    async with server, httpx2.AsyncClient(transport=transport) as client:
        response = await client.post(url, content=b"x")
    assert response.text == "until the end"


async def test_garbage_instead_of_http_is_a_protocol_error(transport) -> None:
    server, url = await raw_server(lambda n: b"SMTP ready\r\n\r\n")
    async with server, httpx2.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx2.RemoteProtocolError):
            await client.post(url, content=b"x")


async def test_nothing_listening_is_a_connect_error(transport) -> None:
    async with httpx2.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx2.ConnectError):
            await client.post("http://127.0.0.1:9/v1/x", content=b"x")


async def test_a_silent_server_is_a_read_timeout(mock, transport) -> None:
    async with httpx2.AsyncClient(transport=transport, timeout=0.2) as client:
        mock.script("stalls", [Fault(stall_before_s=2)])
        with pytest.raises(httpx2.ReadTimeout):
            await client.post(f"{mock.url}/chat/completions", json={**BODY, "model": "stalls"})
