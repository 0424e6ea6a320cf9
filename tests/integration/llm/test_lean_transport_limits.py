"""The lean transport's promises for paid POSTs, over real sockets: a request whose body was
written is never sent twice, connections per origin are capped (a request waits up to the
pool timeout for one), and HTTPS works with a verified certificate."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest

from adapters.llm.lean_transport import LeanTransport

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(handle: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    listening = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield listening.sockets[0].getsockname()[1]
    finally:
        listening.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(
            b"content-length"
        )),
        0,
    )  # fmt: skip
    return head + await reader.readexactly(length)


async def test_a_post_whose_body_was_written_is_not_sent_again() -> None:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await read_request(reader))
        if len(received) == 1:
            writer.write(OK)  # the first request is answered, then the connection idles
            await writer.drain()
            received.append(await read_request(reader))
        writer.close()  # the second is read (maybe billed upstream), then the socket dies

    transport = LeanTransport()
    async with server(handle) as port, httpx2.AsyncClient(transport=transport) as client:
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        assert (await client.post(url, json={"n": 1})).status_code == 200
        with pytest.raises(httpx2.TransportError):
            await client.post(url, json={"n": 2})
    assert len(received) == 2 and transport.connections_opened == 1


async def test_connections_per_origin_are_capped_and_waiting_is_bounded() -> None:
    release = asyncio.Event()
    open_now: list[int] = [0]
    most: list[int] = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_now[0] += 1
        most[0] = max(most[0], open_now[0])
        try:
            while True:
                await read_request(reader)
                await release.wait()
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now[0] -= 1
            writer.close()

    transport = LeanTransport(max_connections_per_origin=2)
    timeout = httpx2.Timeout(5.0, pool=0.2)
    async with (
        server(handle) as port,
        httpx2.AsyncClient(transport=transport, timeout=timeout) as client,
    ):
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        busy = [asyncio.create_task(client.post(url, json={})) for _ in range(2)]
        await asyncio.sleep(0.1)
        with pytest.raises(httpx2.PoolTimeout):
            await client.post(url, json={})
        queued = asyncio.create_task(client.post(url, json={}))
        await asyncio.sleep(0.05)
        release.set()
        answers = await asyncio.gather(*busy, queued)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert most[0] == 2 and transport.connections_opened == 2


async def test_https_with_a_verified_certificate(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        writer.close()

    trusting = ssl.create_default_context(cafile=str(cert))
    async with server(handle, served) as port:
        url = f"https://localhost:{port}/v1/models"
        transport = LeanTransport(ssl_context=trusting)
        async with httpx2.AsyncClient(transport=transport) as client:
            response = await client.get(url)
        assert response.status_code == 200 and response.text == "ok"
        async with httpx2.AsyncClient(transport=LeanTransport()) as untrusting:
            with pytest.raises(httpx2.ConnectError):
                await untrusting.get(url)  # a certificate nobody vouches for is refused


async def test_a_waiter_cancelled_just_after_it_was_woken_hands_the_slot_on() -> None:
    answer = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await read_request(reader)
                await answer.wait()
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    transport = LeanTransport(max_connections_per_origin=1)
    timeout = httpx2.Timeout(5.0, pool=3.0)
    async with (
        server(handle) as port,
        httpx2.AsyncClient(transport=transport, timeout=timeout) as client,
    ):
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        busy = asyncio.create_task(client.post(url, json={}))
        await asyncio.sleep(0.1)
        first = asyncio.create_task(client.post(url, json={}))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(client.post(url, json={}))
        await asyncio.sleep(0.05)
        wake = transport._wake

        def wake_then_cancel_the_woken(origin: tuple[str, str, int]) -> None:
            wake(origin)
            first.cancel()  # it was woken, but is cancelled before it runs

        transport._wake = wake_then_cancel_the_woken  # type: ignore[method-assign]
        answer.set()
        assert (await busy).status_code == 200
        transport._wake = wake  # type: ignore[method-assign]
        with pytest.raises(asyncio.CancelledError):
            await first
        # Without the hand-on, the second waits for its pool timeout (3 s) and fails.
        assert (await asyncio.wait_for(second, 2.0)).status_code == 200
