"""A tiny keep-alive HTTP/1.1 load generator on raw asyncio streams.

A general-purpose client (httpx, aiohttp) spends more CPU per request than the servers it
would measure here; on a 2-core machine that skews every figure. This one only writes a
prebuilt request and parses just enough of the reply (Content-Length or chunked) to time
the first content byte of a stream and the whole response.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field

_CONTENT = re.compile(rb'"content":\s*"[^"]')
# Anchored at a line start: proxies add look-alike headers (``llm_provider-transfer-encoding``).
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:\s*chunked")
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)")


@dataclass
class Sample:
    latency_s: float
    ttft_s: float | None
    ok: bool
    status: int = 0
    error_body: bytes = b""


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    elapsed_s: float = 0.0
    warmup_requests: int = 0
    """Requests sent before the measured ones (for CPU per request read around a run)."""
    cpu_ms: float = float("nan")
    """The target's CPU per request, when the caller measured it."""
    redis_reads: float = float("nan")
    """Read events the target's Redis server processed per request (its round trips), and
    the commands per request (those Lua scripts call included), when the caller measured
    them."""
    redis_commands: float = float("nan")

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    @property
    def first_error(self) -> bytes:
        """The start of the first failed response's body (what the server said)."""
        return next((s.error_body for s in self.samples if s.error_body), b"")

    @property
    def errors(self) -> Counter[int]:
        return Counter(s.status for s in self.samples if not s.ok)

    @property
    def rps(self) -> float:
        return len(self.ok) / self.elapsed_s if self.elapsed_s else 0.0

    def pct(self, p: float, ttft: bool = False) -> float:
        values = sorted(
            (s.ttft_s if ttft else s.latency_s) or 0.0
            for s in self.ok
            if not ttft or s.ttft_s is not None
        )
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


def build_request(host: str, port: int, path: str, body: bytes, token: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> Sample:
    started = time.perf_counter()
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    ok = status in (200, 201)
    lower = head.lower()
    ttft = None
    if _CHUNKED.search(lower):
        while True:
            size = int((await reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            data = await reader.readexactly(size + 2)
            if ttft is None and _CONTENT.search(data):
                ttft = time.perf_counter() - started
    else:
        match = _LENGTH.search(lower)
        body = await reader.readexactly(int(match.group(1)) if match else 0)
        if not ok:
            return Sample(time.perf_counter() - started, ttft, ok, status, body[:300])
    return Sample(time.perf_counter() - started, ttft, ok, status)


async def _worker(host: str, port: int, raw: bytes, deadline: float, run: Run) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            try:
                run.samples.append(await _one(reader, writer, raw))
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                run.samples.append(Sample(0.0, None, False))
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def load(
    host: str,
    port: int,
    path: str,
    body: bytes,
    token: str,
    concurrency: int,
    seconds: float,
    paths: list[str] | None = None,
    warmup_s: float = 0.3,
) -> Run:
    """``concurrency`` keep-alive clients for ``seconds``; with ``paths``, client i posts to
    ``paths[i % len(paths)]`` (e.g. each to its own conversation) instead of ``path``."""
    raws = [build_request(host, port, p, body, token) for p in (paths or [path])]
    # Warm-up: connections, caches and the first JIT-ish costs stay out of the figures.
    warm = Run()
    if warmup_s:
        await _worker(host, port, raws[0], time.perf_counter() + warmup_s, warm)
    run = Run(warmup_requests=len(warm.samples))
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_worker(host, port, raws[i % len(raws)], deadline, run) for i in range(concurrency))
    )
    run.elapsed_s = time.perf_counter() - started
    return run
