"""A small, fast OpenAI-compatible upstream for tests and benchmarks.

Raw ASGI on uvicorn (no framework) so it costs little next to what it measures. Settable
time-to-first-token and inter-token gap; scripted faults per upstream model (status codes,
Retry-After, stalls, malformed or endless streams, dropped connections); request counters.

In-process:    ``with MockUpstream.start_thread(ttft_ms=0) as mock: mock.url`` (…/v1)
Own process:   ``python -m tests.support.mock_openai --port 9000 --ttft-ms 0 --gap-ms 0``
Either way it is driven over HTTP: ``mock.script(model, [Fault(status=500)])``,
``mock.always(model, Fault(...))``, ``mock.stats()``, ``mock.reset()``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[2]


class Fault(msgspec.Struct, omit_defaults=True):
    """What to do to one request (or every request, via ``always``)."""

    status: int = 200
    retry_after: str | None = None  # Retry-After header on an error status
    stall_before_s: float = 0.0  # stream: after the headers, before the first token
    stall_after_tokens: int = -1  # stream: stall this long after N tokens ...
    stall_s: float = 0.0  # ... for this many seconds
    malformed_after: int = -1  # stream: invalid JSON after N tokens
    drop_after: int = -1  # stream: close the connection after N tokens, no [DONE]
    endless: bool = False  # stream: never stop sending tokens
    huge_bytes: int = 0  # non-stream: a reply body of this size


class Behaviour(msgspec.Struct):
    ttft_ms: float = 0.0
    gap_ms: float = 0.0
    tokens: int = 12


class _Script(msgspec.Struct):
    model: str = "*"
    faults: list[Fault] = msgspec.field(default_factory=list)
    always: Fault | None = None
    behaviour: Behaviour | None = None


class _ChatRequest(msgspec.Struct):
    model: str = ""
    messages: list[dict[str, Any]] = msgspec.field(default_factory=list)
    stream: bool = False
    max_tokens: int | None = None
    stream_options: dict[str, Any] | None = None


class _State:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.queues: dict[str, deque[Fault]] = {}
        self.always: dict[str, Fault] = {}
        self.counts: Counter[str] = Counter()
        self.last_request: dict[str, Any] = {}

    def fault_for(self, model: str) -> Fault:
        for key in (model, "*"):
            queue = self.queues.get(key)
            if queue:
                return queue.popleft()
        return self.always.get(model) or self.always.get("*") or Fault()


_encode = msgspec.json.encode
_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
_JSON_HEADERS = [(b"content-type", b"application/json")]


def reply_tokens(n: int) -> list[str]:
    return ["Hello"] + [f" t{i}" for i in range(1, n)]


class MockApp:
    """The ASGI application."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.state = _State(behaviour or Behaviour())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path, method = scope["path"], scope["method"]
        body = await _read_body(receive)
        self.state.counts[path] += 1
        if path.endswith("/chat/completions") and method == "POST":
            await self._chat(body, receive, send)
        elif path.endswith("/embeddings") and method == "POST":
            await self._embeddings(body, send)
        elif path.endswith("/models"):
            data = {"object": "list", "data": [{"id": "mock-model", "object": "model"}]}
            await _json(send, 200, data)
        elif path.startswith("/_mock/"):
            await self._control(path, body, send)
        else:
            await _json(send, 404, {"error": {"message": "no such route", "type": "not_found"}})

    async def _control(self, path: str, body: bytes, send: Any) -> None:
        state = self.state
        if path == "/_mock/script":
            script = msgspec.json.decode(body, type=_Script)
            state.queues.setdefault(script.model, deque()).extend(script.faults)
            if script.always is not None:
                state.always[script.model] = script.always
            if script.behaviour is not None:
                state.behaviour = script.behaviour
        elif path == "/_mock/reset":
            state.queues.clear()
            state.always.clear()
            state.counts.clear()
        await _json(send, 200, {"counts": dict(state.counts), "last_request": state.last_request})

    async def _chat(self, body: bytes, receive: Any, send: Any) -> None:
        request = msgspec.json.decode(body, type=_ChatRequest)
        self.state.last_request = msgspec.json.decode(body)
        self.state.counts[f"model:{request.model}"] += 1
        fault = self.state.fault_for(request.model)
        behaviour = self.state.behaviour
        if fault.status != 200:
            headers = [(b"retry-after", fault.retry_after.encode())] if fault.retry_after else []
            error = {"message": f"mock fault {fault.status}", "type": "mock_error"}
            await _json(send, fault.status, {"error": error}, headers)
            return
        n = min(behaviour.tokens, request.max_tokens or behaviour.tokens)
        tokens = reply_tokens(n)
        usage = {"prompt_tokens": _prompt_tokens(request), "completion_tokens": n}
        usage["total_tokens"] = usage["prompt_tokens"] + n
        if not request.stream:
            await self._complete(request, fault, tokens, usage, send)
            return
        disconnected = asyncio.Event()
        watcher = asyncio.ensure_future(_watch_disconnect(receive, disconnected))
        try:
            await self._stream(request, fault, tokens, usage, send, disconnected)
        finally:
            watcher.cancel()

    async def _complete(
        self, request: _ChatRequest, fault: Fault, tokens: list[str], usage: dict, send: Any
    ) -> None:
        delay = self.state.behaviour.ttft_ms / 1000 + fault.stall_before_s
        if delay:
            await asyncio.sleep(delay)
        content = "x" * fault.huge_bytes if fault.huge_bytes else "".join(tokens)
        finish = "length" if len(tokens) == request.max_tokens else "stop"
        message = {"role": "assistant", "content": content}
        await _json(send, 200, _completion(request.model, message, finish, usage))

    async def _stream(
        self,
        request: _ChatRequest,
        fault: Fault,
        tokens: list[str],
        usage: dict,
        send: Any,
        disconnected: asyncio.Event,
    ) -> None:
        behaviour = self.state.behaviour
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        if behaviour.ttft_ms or fault.stall_before_s:
            await asyncio.sleep(behaviour.ttft_ms / 1000 + fault.stall_before_s)
        gap = behaviour.gap_ms / 1000
        index = 0
        deadline = time.monotonic() + 600  # an "endless" stream still ends eventually
        while (index < len(tokens) or fault.endless) and not disconnected.is_set():
            if index == fault.malformed_after:
                await _chunk(send, b'data: {"choices": [{"delta": {"content": "bro\n\n')
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if index == fault.drop_after:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if index == fault.stall_after_tokens:
                await asyncio.sleep(fault.stall_s)
            if index and (gap or fault.endless):
                await asyncio.sleep(gap or 0.001)
            text = tokens[index] if index < len(tokens) else " more"
            delta = {"content": text} if index else {"role": "assistant", "content": text}
            chunk = _chunk_body(request.model, delta, None)
            await _chunk(send, b"data: " + _encode(chunk) + b"\n\n")
            index += 1
            if time.monotonic() > deadline:
                break
        finish = "length" if len(tokens) == request.max_tokens else "stop"
        tail = b"data: " + _encode(_chunk_body(request.model, {}, finish)) + b"\n\n"
        if (request.stream_options or {}).get("include_usage"):
            final = {**_chunk_body(request.model, {}, None), "choices": [], "usage": usage}
            tail += b"data: " + _encode(final) + b"\n\n"
        await _chunk(send, tail + b"data: [DONE]\n\n")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _embeddings(self, body: bytes, send: Any) -> None:
        payload = msgspec.json.decode(body)
        texts = payload.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(str(t))}
            for i, t in enumerate(texts)
        ]
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        await _json(
            send,
            200,
            {"object": "list", "data": data, "model": payload.get("model"), "usage": usage},
        )


def _vector(text: str, dim: int = 8) -> list[float]:
    values = [float((hash(text) >> (i * 4)) % 17 - 8) for i in range(dim)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [v / norm for v in values]


def _prompt_tokens(request: _ChatRequest) -> int:
    return sum(4 + len(str(m.get("content", ""))) // 4 for m in request.messages) + 2


def _completion(model: str, message: dict, finish: str, usage: dict) -> dict:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def _chunk_body(model: str, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _watch_disconnect(receive: Any, event: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    event.set()


async def _chunk(send: Any, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _json(send: Any, status: int, payload: Any, headers: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": _JSON_HEADERS + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": _encode(payload)})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MockUpstream:
    """Handle on a running mock: its URL and the HTTP control calls."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/v1"

    def _post(self, path: str, payload: Any = None) -> dict:
        response = httpx.post(self.base + path, content=_encode(payload or {}), timeout=5)
        response.raise_for_status()
        return response.json()

    def script(self, model: str, faults: list[Fault]) -> None:
        """The next ``len(faults)`` requests for ``model`` get these faults, in order."""
        self._post("/_mock/script", {"model": model, "faults": faults})

    def always(self, model: str, fault: Fault) -> None:
        self._post("/_mock/script", {"model": model, "always": fault})

    def behave(self, *, ttft_ms: float = 0, gap_ms: float = 0, tokens: int = 12) -> None:
        self._post("/_mock/script", {"behaviour": Behaviour(ttft_ms, gap_ms, tokens)})

    def stats(self) -> dict[str, int]:
        return self._post("/_mock/stats")["counts"]

    def last_request(self) -> dict[str, Any]:
        """The JSON body of the last chat completion request."""
        return self._post("/_mock/stats")["last_request"]

    def calls(self, model: str) -> int:
        return self.stats().get(f"model:{model}", 0)

    def reset(self) -> None:
        self._post("/_mock/reset")

    def wait_ready(self, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/models", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"mock upstream on port {self.port} did not start")

    @classmethod
    @contextlib.contextmanager
    def start_thread(cls, **behaviour: float) -> Iterator[MockUpstream]:
        """Serve from a background thread of this process (tests)."""
        import uvicorn

        port = free_port()
        config = uvicorn.Config(
            MockApp(Behaviour(**behaviour)), host="127.0.0.1", port=port, log_level="error"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        mock = cls(port)
        try:
            mock.wait_ready()
            yield mock
        finally:
            server.should_exit = True
            thread.join(timeout=10)

    @classmethod
    @contextlib.contextmanager
    def start_process(cls, **behaviour: float) -> Iterator[MockUpstream]:
        """Serve from its own process (benchmarks: no GIL shared with the load generator)."""
        port = free_port()
        args = [sys.executable, "-m", "tests.support.mock_openai", "--port", str(port)]
        for key, value in behaviour.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        process = subprocess.Popen(args, cwd=str(ROOT))
        mock = cls(port)
        try:
            mock.wait_ready()
            yield mock
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--ttft-ms", type=float, default=0.0)
    parser.add_argument("--gap-ms", type=float, default=0.0)
    parser.add_argument("--tokens", type=int, default=12)
    args = parser.parse_args()
    app = MockApp(Behaviour(args.ttft_ms, args.gap_ms, args.tokens))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="error", access_log=False)


if __name__ == "__main__":
    main()
