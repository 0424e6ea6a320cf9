"""A lean HTTP/1.1 keep-alive transport for the openai adapter.

Two ways in: ``exchange`` sends an already encoded request and returns the raw reply (the
adapter's chat completions, encoded once per call from the SDK's own headers), and
``handle_async_request`` serves as the SDK's httpx2 transport for everything else (the
SDK builds the request and maps statuses to its error types). Either way the bytes move
over asyncio streams parsed by httptools (C), instead of the SDK's default pure-Python HTTP
stack, which costs about a millisecond per request and more per streamed chunk: the
gateway's whole latency budget. No proxies, no HTTP/2: the provider adapter uses the SDK's
default transport when a proxy is configured.

What it promises, because a chat completion is a paid, non-idempotent POST:
- a request is re-sent only when its reused keep-alive connection failed before the whole
  request was written (the upstream had closed it while idle); once the body is written it
  is never sent again, whatever happens next;
- at most ``max_connections_per_origin`` connections per origin, idle or busy; a request
  that finds none free waits up to the pool timeout (``PoolTimeout`` after);
- connect, write, read and pool timeouts are honoured (the SDK's, through httpx2's
  ``timeout`` extension, or the adapter's own on ``exchange``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Mapping

import httptools
import httpx2

_READ_SIZE = 65_536
_DRAIN_S = 0.5
_DRAIN_PIECES = 64
_DRAINING: set[asyncio.Future[None]] = set()


class _Parsed:
    """httptools callbacks: collects the head, then body pieces as they arrive."""

    __slots__ = ("complete", "headers", "headers_done", "pieces")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.pieces: list[bytes] = []
        self.headers_done = False
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.pieces.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


Origin = tuple[str, str, int]
"""(scheme, host, port)."""


class _Connection:
    __slots__ = ("closed", "origin", "reader", "transport", "writer")

    def __init__(
        self,
        transport: LeanTransport,
        origin: Origin,
        reader: asyncio.StreamReader,
        w: asyncio.StreamWriter,
    ) -> None:
        self.transport = transport
        self.origin = origin
        self.reader = reader
        self.writer = w
        self.closed = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.writer.close()
        self.transport.forget(self.origin)


class RawReply:
    """A reply's status and head; ``body`` yields its bytes (chunked framing removed)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: _Body) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), if any."""
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class LeanTransport(httpx2.AsyncBaseTransport):
    """HTTP/1.1 with a per-origin pool of idle keep-alive connections (bounded)."""

    def __init__(
        self,
        *,
        max_connections_per_origin: int = 256,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open: dict[Origin, int] = {}
        self._waiters: dict[Origin, deque[asyncio.Future[None]]] = {}
        self._max = max_connections_per_origin
        self._ssl = ssl_context
        self.connections_opened = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        head = [f"{request.method} ".encode(), url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += [name, b": ", value, b"\r\n"]
        payload = b"".join(head) + b"\r\n" + await request.aread()
        reply = await self.exchange(origin, payload, request.extensions.get("timeout", {}), request)
        return httpx2.Response(
            reply.status,
            headers=reply.headers,
            stream=reply.body,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def exchange(
        self,
        origin: Origin,
        payload: bytes,
        timeouts: Mapping[str, float | None],
        request: httpx2.Request | None = None,
    ) -> RawReply:
        """Send one whole request (head and body, already encoded) and read the reply's
        head; the body follows from ``RawReply.body``, which must be read to its end or
        closed. This is the path without httpx2's request and response objects (the
        adapter's chat completions use it directly); errors are httpx2's transport errors."""
        read_s = timeouts.get("read")
        for attempt in (0, 1):  # an idle keep-alive connection may have been closed upstream
            connection, reused = await self._checkout(origin, timeouts, request)
            parsed = _Parsed()
            parser = httptools.HttpResponseParser(parsed)
            written = False
            try:
                await _write(connection, payload, timeouts.get("write"), request)
                written = True  # from here on the upstream may be generating: never resend
                while not parsed.headers_done:
                    data = await _read(connection, read_s, request)
                    if not data:
                        raise httpx2.RemoteProtocolError("connection closed", request=request)
                    _feed(parser, data, request)
            except (httpx2.RemoteProtocolError, httpx2.ReadError, ConnectionError) as exc:
                connection.close()
                if reused and attempt == 0 and not written:
                    continue
                raise _as_transport_error(exc, request) from None
            except BaseException:
                connection.close()
                raise
            reusable = parser.get_http_version() == "1.1" and not _closes(parsed.headers)
            body = _Body(self, connection, parser, parsed, read_s, request, reusable)
            return RawReply(parser.get_status_code(), parsed.headers, body)
        raise httpx2.RemoteProtocolError("no connection", request=request)  # pragma: no cover

    async def _checkout(
        self,
        origin: Origin,
        timeouts: Mapping[str, float | None],
        request: httpx2.Request | None,
    ) -> tuple[_Connection, bool]:
        async with _timeout(
            timeouts.get("pool"), httpx2.PoolTimeout, "no free connection", request
        ):
            while True:
                idle = self._idle.get(origin)
                while idle:
                    connection = idle.pop()
                    if not connection.writer.is_closing() and not connection.reader.at_eof():
                        return connection, True
                    connection.close()
                if self._open.get(origin, 0) < self._max:
                    break
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.setdefault(origin, deque()).append(waiter)
                try:
                    await waiter
                except BaseException:
                    if waiter.done() and not waiter.cancelled():
                        # Woken, then cancelled (a pool timeout, a stop) before it ran:
                        # the wake-up was for a free slot, so the next waiter gets it.
                        self._wake(origin)
                    raise
        self._open[origin] = self._open.get(origin, 0) + 1  # held while connecting
        try:
            reader, writer = await self._connect(origin, timeouts.get("connect"), request)
        except BaseException:
            self.forget(origin)
            raise
        self.connections_opened += 1
        return _Connection(self, origin, reader, writer), False

    async def _connect(
        self, origin: Origin, connect_s: float | None, request: httpx2.Request | None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        scheme, host, port = origin
        if scheme == "https" and self._ssl is None:
            self._ssl = ssl.create_default_context()
        tls = self._ssl if scheme == "https" else None
        try:
            async with asyncio.timeout(connect_s):
                return await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=_READ_SIZE
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout("connect timed out", request=request) from None
        except OSError as exc:
            raise httpx2.ConnectError(str(exc) or "connect failed", request=request) from None

    def forget(self, origin: Origin) -> None:
        """A connection of ``origin`` closed: its slot is free."""
        self._open[origin] = max(0, self._open.get(origin, 0) - 1)
        self._wake(origin)

    def _wake(self, origin: Origin) -> None:
        waiters = self._waiters.get(origin)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def release(self, connection: _Connection) -> None:
        """Back to the idle pool (it keeps its slot), and a waiting request may take it."""
        if connection.closed:
            return
        self._idle.setdefault(connection.origin, []).append(connection)
        self._wake(connection.origin)

    async def aclose(self) -> None:
        idle_lists, self._idle = list(self._idle.values()), {}
        for idle in idle_lists:
            for connection in idle:
                connection.close()


class _Body(httpx2.AsyncByteStream):
    def __init__(
        self,
        transport: LeanTransport,
        connection: _Connection,
        parser: httptools.HttpResponseParser,
        parsed: _Parsed,
        read_s: float | None,
        request: httpx2.Request | None,
        reusable: bool,
    ) -> None:
        self._transport = transport
        self._reusable = reusable
        self._connection: _Connection | None = connection
        self._parser = parser
        self._parsed = parsed

        self._read_s = read_s
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        parsed, connection = self._parsed, self._connection
        while connection is not None:
            if parsed.pieces:
                pieces, parsed.pieces = parsed.pieces, []
                for piece in pieces:
                    yield piece
            if parsed.complete:
                self._finish()
                return
            data = await _read(connection, self._read_s, self._request)
            if data:
                _feed(self._parser, data, self._request)
            elif _delimited_by_close(parsed.headers):
                parsed.complete = True  # the body was "everything until the server closes"
                self._reusable = False
            else:
                raise httpx2.RemoteProtocolError("response ended early", request=self._request)

    async def aclose(self) -> None:
        self._finish()

    def _finish(self) -> None:
        """Back to the pool if the response was read to its end (a reader may stop at the
        last event before the terminating chunk was parsed: then it is simply closed)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if not self._reusable:
            connection.close()
        elif self._parsed.complete:
            self._transport.release(connection)
        else:  # e.g. stopped at `data: [DONE]`, the chunked terminator still in flight
            task = asyncio.ensure_future(self._drain(connection))
            _DRAINING.add(task)
            task.add_done_callback(_DRAINING.discard)

    async def _drain(self, connection: _Connection) -> None:
        """Read the rest of an abandoned response briefly and bounded, to reuse the
        connection; anything longer or larger is not worth it: close."""
        self._parsed.pieces.clear()
        try:
            async with asyncio.timeout(_DRAIN_S):
                while not self._parsed.complete and len(self._parsed.pieces) < _DRAIN_PIECES:
                    data = await connection.reader.read(_READ_SIZE)
                    if not data:
                        break
                    self._parser.feed_data(data)
        except (TimeoutError, OSError, httptools.HttpParserError):
            pass
        if self._parsed.complete:
            self._transport.release(connection)
        else:
            connection.close()


def _closes(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(n.lower() == b"connection" and v.lower() == b"close" for n, v in headers)


def _delimited_by_close(headers: list[tuple[bytes, bytes]]) -> bool:
    names = {name.lower() for name, _ in headers}
    return b"content-length" not in names and b"transfer-encoding" not in names


async def _write(
    connection: _Connection, payload: bytes, write_s: float | None, request: httpx2.Request | None
) -> None:
    async with _timeout(write_s, httpx2.WriteTimeout, "write timed out", request):
        connection.writer.write(payload)
        await connection.writer.drain()


class _timeout:
    """``asyncio.timeout`` that raises the given httpx2 timeout error instead."""

    def __init__(
        self,
        seconds: float | None,
        error: type[httpx2.TimeoutException],
        message: str,
        request: httpx2.Request | None,
    ) -> None:
        self._inner = asyncio.timeout(seconds)
        self._error, self._message, self._request = error, message, request

    async def __aenter__(self) -> None:
        await self._inner.__aenter__()

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self._inner.__aexit__(*exc_info)  # type: ignore[arg-type]
        except TimeoutError:
            raise self._error(self._message, request=self._request) from None


async def _read(
    connection: _Connection, read_s: float | None, request: httpx2.Request | None
) -> bytes:
    try:
        async with asyncio.timeout(read_s):
            return await connection.reader.read(_READ_SIZE)
    except TimeoutError:
        raise httpx2.ReadTimeout("read timed out", request=request) from None
    except OSError as exc:
        raise httpx2.ReadError(str(exc) or "read failed", request=request) from None


def _feed(
    parser: httptools.HttpResponseParser, data: bytes, request: httpx2.Request | None
) -> None:
    try:
        parser.feed_data(data)
    except httptools.HttpParserError as exc:
        raise httpx2.RemoteProtocolError(f"invalid HTTP: {exc}", request=request) from None


def _as_transport_error(exc: Exception, request: httpx2.Request | None) -> httpx2.TransportError:
    if isinstance(exc, httpx2.TransportError):
        return exc
    return httpx2.ReadError(str(exc) or type(exc).__name__, request=request)
