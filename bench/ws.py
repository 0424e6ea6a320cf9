"""P4 WebSocket benchmark: many idle sockets, then a burst of chats among them.

    .venv/bin/python bench/ws.py [--backend postgres|sqlite] [--sockets 10000] [--chats 500]
        [--idle-seconds 30] [--compare /path/to/other/checkout]

One real `parley serve` (one worker, the `openai` provider pointed at the mock upstream in
its own process). In order:
1. ``sockets`` authenticated sockets are opened (``sockets_per_user`` per account, at most
   64 handshakes at a time) and left idle: server RSS growth per socket (KiB);
2. the server's own CPU time (/proc, so the load generator is not counted) over
   ``idle_seconds`` with every socket idle, as % of one core: credential re-checks,
   keep-alive pings, timers;
3. ``chats`` of those sockets each send one ``chat`` frame at the same moment: how many
   stream to ``done`` with every delta, the error codes of the others, time to ``ack``
   and to the first delta (p50/p99), gaps between deltas;
4. the server's open connections to Redis and PostgreSQL at the peak of the burst and
   ``settle_seconds`` after it (the bench sets a short idle-close period so the pools'
   shrinking shows within the run).

The bench raises its own open-files limit to the hard limit (the server it starts inherits
it): 10,000 sockets need 10,000 descriptors on each side. ``--compare`` runs the same
steps against another checkout's ``src`` afterwards, for a before/after in one run.
Everything shares this machine's cores: read the ratios, not the absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
import tests.support.server as server_support  # noqa: E402
import uvloop  # noqa: E402
from bench.chat import ENV, TOML  # noqa: E402
from bench.chat_report import pct, rss_mib  # noqa: E402
from tests.support.backends import postgres_backend, sqlite_backend  # noqa: E402
from tests.support.mock_openai import MockUpstream  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

HOST = "127.0.0.1"
TICKS = os.sysconf("SC_CLK_TCK")
_HANDSHAKE_ATTEMPTS = 3
WS_ENV = {**ENV, "PARLEY_REDIS_IDLE_CLOSE_S": "4"}


def raise_open_files_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def connections_to(pid: int, port: int) -> int:
    """Established TCP connections of process ``pid`` to ``port`` (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                remote_port = int(parts[2].rsplit(":", 1)[1], 16)
                if parts[3] == "01" and remote_port == port and parts[9] in inodes:
                    count += 1
    return count


@dataclass
class Chat:
    ack_s: float | None = None
    arrivals: list[float] = field(default_factory=list)
    done: bool = False
    error: str = ""


@dataclass
class Result:
    label: str
    rss_rest: float = 0.0
    kib_per_socket: float = 0.0
    idle_cpu_pct: float = 0.0
    chats: list[Chat] = field(default_factory=list)
    tokens: int = 0
    peak: dict[str, int] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)
    warnings: Counter[str] = field(default_factory=Counter)


async def register(http: httpx.AsyncClient, users: int) -> list[str]:
    gate = asyncio.Semaphore(16)

    async def one() -> str:
        async with gate:
            email = f"ws-bench-{random.getrandbits(48):x}@example.com"
            body = {"email": email, "password": "correct horse battery staple"}
            made = await http.post("/api/v1/auth/register", json=body)
            return str(made.raise_for_status().json()["access_token"])

    return list(await asyncio.gather(*(one() for _ in range(users))))


async def conversations(http: httpx.AsyncClient, tokens: list[str]) -> list[str]:
    gate = asyncio.Semaphore(16)

    async def one(token: str) -> str:
        async with gate:
            headers = {"Authorization": f"Bearer {token}"}
            made = await http.post("/api/v1/conversations", json={}, headers=headers)
            return str(made.raise_for_status().json()["id"])

    return list(await asyncio.gather(*(one(t) for t in tokens)))


async def open_sockets(port: int, tokens: list[str]) -> list[ClientConnection]:
    gate = asyncio.Semaphore(64)

    refused: Counter[str] = Counter()

    async def one(token: str) -> ClientConnection:
        url = f"ws://{HOST}:{port}/api/v1/ws?token={token}"
        for attempt in range(_HANDSHAKE_ATTEMPTS):
            async with gate:
                ws = await connect(
                    url, compression=None, open_timeout=120, ping_interval=None, max_queue=64
                )
                try:
                    ready = json.loads(await ws.recv())
                    assert ready["type"] == "ready", ready
                    return ws
                except ConnectionClosed as exc:  # refused (1013 try later): count, retry
                    why = exc.rcvd
                    refused[f"{why.code} {why.reason}" if why else type(exc).__name__] += 1
                    if attempt == _HANDSHAKE_ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")

    sockets = list(await asyncio.gather(*(one(t) for t in tokens)))
    if refused:
        print(f"    handshakes refused then retried: {dict(refused)}")
    return sockets


async def chat(ws: ClientConnection, conversation: str, start: asyncio.Event) -> Chat:
    result = Chat()
    frame = json.dumps(
        {
            "type": "chat",
            "request_id": "bench",
            "conversation_id": conversation,
            "content": "Say hello",
            "model": "mock-model",
        }
    )
    await start.wait()
    started = time.perf_counter()
    try:
        await ws.send(frame)
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            kind = message.get("type")
            if kind == "ack":
                result.ack_s = time.perf_counter() - started
            elif kind == "delta":
                result.arrivals.append(time.perf_counter() - started)
            elif kind == "done":
                result.done = True
                return result
            elif kind == "error":
                result.error = str(message.get("code", "error"))
                return result
    except Exception as exc:  # a broken socket is a failed chat, reported by its type
        result.error = type(exc).__name__
        return result


async def run_target(label: str, env: dict[str, str], args: argparse.Namespace) -> Result:
    result = Result(label)
    ports = {"redis": 6379, "postgres": 5432} if args.backend == "postgres" else {}
    with tempfile.TemporaryDirectory() as tmp, server_support.run_server(env, Path(tmp)) as srv:
        pid = srv.process.pid
        result.rss_rest = rss_mib(pid)
        users = -(-args.sockets // args.sockets_per_user)
        # Chatting sockets are spread over the idle ones, not the first ``chats`` opened.
        chosen = random.sample(range(args.sockets), args.chats)
        async with httpx.AsyncClient(base_url=srv.base_url, timeout=60) as http:
            tokens = await register(http, users)
            convs = await conversations(http, [tokens[i % users] for i in chosen])
        before = rss_mib(pid)
        sockets = await open_sockets(srv.port, [tokens[i % users] for i in range(args.sockets)])
        await asyncio.sleep(2.0)
        result.kib_per_socket = (rss_mib(pid) - before) * 1024 / len(sockets)
        print(f"  [{label}] {len(sockets)} sockets open, measuring idle CPU ...", flush=True)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(args.idle_seconds)
        result.idle_cpu_pct = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0) * 100

        start = asyncio.Event()
        tasks = [
            asyncio.create_task(chat(sockets[i], convs[n], start)) for n, i in enumerate(chosen)
        ]
        peak = dict.fromkeys(ports, 0)

        async def sample_peak() -> None:
            while not all(t.done() for t in tasks):
                for name, port in ports.items():
                    peak[name] = max(peak[name], connections_to(pid, port))
                await asyncio.sleep(0.2)

        sampler = asyncio.create_task(sample_peak())
        start.set()
        result.chats = list(await asyncio.gather(*tasks))
        await sampler
        result.peak = peak
        result.tokens = args.tokens
        await asyncio.sleep(args.settle_seconds)
        result.settled = {name: connections_to(pid, port) for name, port in ports.items()}
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        result.warnings = _warnings(srv.logs())
    return result


def _warnings(logs: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in logs.splitlines():
        if "[warning" in line or "[error" in line:
            words = line.split("]", 1)[1].split()
            code = next((w for w in words if w.startswith("code=")), "")
            counts[f"{words[0]} {code}".strip()] += 1
    return counts


def report(result: Result, args: argparse.Namespace) -> None:
    chats = result.chats
    complete = [c for c in chats if c.done and len(c.arrivals) == result.tokens]
    ttft = [c.arrivals[0] for c in chats if c.arrivals]
    acks = [c.ack_s for c in chats if c.ack_s is not None]
    gaps = [b - a for c in complete for a, b in zip(c.arrivals, c.arrivals[1:], strict=False)]
    print(f"{result.label}: RSS at rest {result.rss_rest:.0f} MiB")
    print(f"  idle sockets: {args.sockets}, {result.kib_per_socket:.1f} KiB each (RSS growth)")
    print(f"  idle CPU with {args.sockets} sockets: {result.idle_cpu_pct:.1f} % of one core")
    print(
        f"  {args.chats} chats at once: {len(complete)} streamed to the end, "
        f"ack p50 {pct(acks, 50):.0f} ms p99 {pct(acks, 99):.0f} ms, "
        f"first delta p50 {pct(ttft, 50):.0f} ms p99 {pct(ttft, 99):.0f} ms, "
        f"gap p50 {pct(gaps, 50):.1f} ms p99 {pct(gaps, 99):.1f} ms"
    )
    errors = Counter(c.error for c in chats if c.error)
    short = sum(1 for c in chats if c.done and len(c.arrivals) != result.tokens)
    if errors or short:
        print(f"    failed: {dict(errors)}; done with deltas missing: {short}")
    if result.peak:
        print(f"  server connections at the burst's peak: {result.peak}")
        print(f"  ... and {args.settle_seconds:.0f} s after it: {result.settled}")
    if result.warnings:
        print(f"  server warnings: {dict(result.warnings.most_common(8))}")


def main() -> None:
    parser = argparse.ArgumentParser(description="idle WebSockets and a burst of chats")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--sockets-per-user", type=int, default=50)
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--settle-seconds", type=float, default=10.0)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--gap-ms", type=float, default=50.0)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--compare", default="", help="another checkout, measured after this")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    limit = raise_open_files_limit()
    print(f"open files limit: {limit}; {args.backend}; mock ttft {args.ttft_ms} ms, "
          f"gap {args.gap_ms} ms, {args.tokens} tokens")  # fmt: skip
    targets = [("this checkout", ROOT)]
    if args.compare:
        targets.append((f"compare {args.compare}", Path(args.compare).resolve()))
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        mock = stack.enter_context(
            MockUpstream.start_process(ttft_ms=args.ttft_ms, gap_ms=args.gap_ms, tokens=args.tokens)
        )
        (tmp / "parley.toml").write_text(TOML.format(url=mock.url))
        for label, root in targets:
            make = postgres_backend if args.backend == "postgres" else sqlite_backend
            backend = make(tmp / f"db-{len(label)}")
            env = {**backend.env, **WS_ENV, "PARLEY_CONFIG": str(tmp / "parley.toml")}
            server_support.ROOT = root
            try:
                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    report(runner.run(run_target(label, env, args)), args)
            finally:
                for cleanup in backend.cleanup:
                    cleanup()


if __name__ == "__main__":
    main()
