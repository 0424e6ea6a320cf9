"""P2/P3 chat benchmark: what Parley adds to a streamed reply, over SSE and over WebSocket,
and how many non-streaming turns per second it stores.

    .venv/bin/python bench/chat.py [--levels 10,1000] [--backend postgres|sqlite]

Streaming: the mock OpenAI upstream (own process, fixed time-to-first-token and gap) is
streamed directly, then through Parley (`parley serve`, one worker, the `openai` provider
pointed at the mock) over SSE (`POST .../messages`, stream) and over WebSocket (`chat`
frames, one socket per client). Every client streams ``rounds`` replies one after another,
starting at a random offset so arrivals spread out like real traffic. Reported: TTFT p50/p99
and what Parley adds to it, inter-chunk gaps (a buffering proxy would shrink or bunch them).
Turns: non-streaming `POST /api/v1/conversations/{id}/messages` with the instant fake
model; a turn is stored when the reply is (201). Loopback only, bounded loops, one table.
Client, servers, PostgreSQL and Redis share this machine's cores: read ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
import uvloop  # noqa: E402
from bench.chat_clients import (  # noqa: E402
    HttpConnection,
    Stream,
    bounded,
    open_idle_sockets,
    ws_chat,
)
from bench.chat_report import (  # noqa: E402
    print_server_warnings,
    print_streams,
    print_turns,
    rss_mib,
)
from tests.support.backends import postgres_backend, sqlite_backend  # noqa: E402
from tests.support.mock_openai import MockUpstream  # noqa: E402
from tests.support.server import RunningServer, run_server  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

HOST = "127.0.0.1"
PROMPT = "Say hello"
CLIENTS_PER_USER = 10
TOML = """[llm]
model = "mock-model"
[providers.mock]
base_url = "{url}"
api_key_env = "BENCH_MOCK_KEY"
[providers.local]
kind = "fake"
[[models]]
id = "mock-model"
provider = "mock"
[[models]]
id = "parley-fake"
provider = "local"
"""
# Limits sized for one machine generating the load of many users (not for production).
ENV = {
    "BENCH_MOCK_KEY": "sk-mock",
    "PARLEY_WS_MESSAGES_PER_MINUTE": "1000000",
    "PARLEY_LIMITS_CHAT_PER_MINUTE": "1000000",
    "PARLEY_LIMITS_DEFAULT_PER_MINUTE": "1000000",
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    "PARLEY_LOG_LEVEL": "warning",
    "PARLEY_DATABASE_POOL_SIZE": "20",
    "PARLEY_DATABASE_MAX_OVERFLOW": "20",
}


class Bench:
    def __init__(self, server: RunningServer, mock: MockUpstream, args: argparse.Namespace):
        self.server, self.mock, self.args = server, mock, args
        self.tokens: list[str] = []
        self.conversations: list[str] = []
        self.handshakes = asyncio.Semaphore(64)

    def spread(self) -> float:
        """A random start offset within one reply's duration."""
        a = self.args
        return random.uniform(0, (a.ttft_ms + a.gap_ms * (a.tokens - 1)) / 1000)

    async def prepare(self, clients: int) -> None:
        """One account per CLIENTS_PER_USER clients, one conversation per client."""
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=60) as http:
            while len(self.tokens) * CLIENTS_PER_USER < clients:
                email = f"bench-{random.getrandbits(48):x}@example.com"
                body = {"email": email, "password": "correct horse battery staple"}
                made = await http.post("/api/v1/auth/register", json=body)
                self.tokens.append(made.raise_for_status().json()["access_token"])
            gate = asyncio.Semaphore(32)

            async def conversation(i: int) -> str:
                async with gate:
                    headers = {"Authorization": f"Bearer {self.token(i)}"}
                    made = await http.post("/api/v1/conversations", json={}, headers=headers)
                    return str(made.raise_for_status().json()["id"])

            start = len(self.conversations)
            self.conversations += await asyncio.gather(
                *(conversation(i) for i in range(start, clients))
            )

    def token(self, client: int) -> str:
        return self.tokens[client // CLIENTS_PER_USER]

    async def direct(self, client: int, rounds: int) -> list[Stream]:
        conn = HttpConnection(HOST, self.mock.port, "sk-mock")
        await conn.open()
        body = {
            "model": "mock-model",
            "stream": True,
            "messages": [{"role": "user", "content": PROMPT}],
        }
        await asyncio.sleep(self.spread())
        try:
            return [
                await bounded(conn.stream("/v1/chat/completions", body, parley=False), "direct")
                for _ in range(rounds)
            ]
        finally:
            conn.close()

    async def sse(self, client: int, rounds: int) -> list[Stream]:
        conn = HttpConnection(HOST, self.server.port, self.token(client))
        await conn.open()
        path = f"/api/v1/conversations/{self.conversations[client]}/messages"
        body = {"content": PROMPT, "model": "mock-model", "stream": True}
        await asyncio.sleep(self.spread())
        try:
            return [
                await bounded(conn.stream(path, body, parley=True), "sse") for _ in range(rounds)
            ]
        finally:
            conn.close()

    async def ws(self, client: int, rounds: int) -> list[Stream]:
        url = f"ws://{HOST}:{self.server.port}/api/v1/ws?token={self.token(client)}"
        # Clients connect over time, not all in one instant: bound concurrent handshakes.
        async with self.handshakes:
            ws = await connect(url, compression=None, open_timeout=120, ping_interval=None)
            await ws.recv()  # ready
        async with ws:
            await asyncio.sleep(self.spread())
            chat = {"content": PROMPT, "model": "mock-model"}
            chat["conversation_id"] = self.conversations[client]
            return [await bounded(ws_chat(ws, f"r{r}", **chat), "ws") for r in range(rounds)]

    async def streams(self, clients: int) -> dict[str, list[Stream]]:
        """Targets take turns, ``cycles`` times, so load drift on a shared machine hits
        them alike rather than whichever ran last."""
        await self.prepare(clients)
        rounds = max(1, self.args.streams // clients // self.args.cycles)
        results: dict[str, list[Stream]] = {"direct": [], "sse": [], "ws": []}
        for _ in range(self.args.cycles):
            for name, client in (("direct", self.direct), ("sse", self.sse), ("ws", self.ws)):
                runs = await asyncio.gather(
                    *(client(i, rounds) for i in range(clients)), return_exceptions=True
                )
                for run in runs:
                    results[name] += run if isinstance(run, list) else [_failed(run)]
        return results

    async def turns(self, clients: int, seconds: float) -> tuple[int, int, float, list[float]]:
        await self.prepare(clients)
        ok, failed, latencies = 0, 0, []

        async def client(i: int, until: float, record: bool) -> None:
            nonlocal ok, failed
            conn = HttpConnection(HOST, self.server.port, self.token(i))
            await conn.open()
            path = f"/api/v1/conversations/{self.conversations[i]}/messages"
            body = {"content": PROMPT, "model": "parley-fake"}
            try:
                while time.perf_counter() < until:
                    started = time.perf_counter()
                    status = await conn.post(path, body)
                    if record:
                        latencies.append(time.perf_counter() - started)
                        ok, failed = (ok + 1, failed) if status == 201 else (ok, failed + 1)
            finally:
                conn.close()

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(client(i, warm, False) for i in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(client(i, started + seconds, True) for i in range(clients)))
        return ok, failed, time.perf_counter() - started, latencies

    async def idle_socket_kib(self, count: int) -> float:
        """Server memory per open, authenticated, idle socket (P4), from RSS growth."""
        urls = [
            f"ws://{HOST}:{self.server.port}/api/v1/ws?token={self.tokens[i % len(self.tokens)]}"
            for i in range(count)
        ]
        before = rss_mib(self.server.process.pid)
        sockets = await open_idle_sockets(urls)
        await asyncio.sleep(1.0)
        grown = rss_mib(self.server.process.pid) - before
        await asyncio.gather(*(ws.close() for ws in sockets))
        return grown * 1024 / count


def _failed(error: BaseException | object) -> Stream:
    closed = getattr(error, "rcvd", None)  # a websockets ConnectionClosed: say how
    detail = f" {closed.code} {closed.reason}".rstrip() if closed is not None else ""
    return Stream(error=type(error).__name__ + detail)


async def run(args: argparse.Namespace, server: RunningServer, mock: MockUpstream) -> None:
    bench = Bench(server, mock, args)
    print(
        f"mock upstream: ttft {args.ttft_ms} ms, gap {args.gap_ms} ms, {args.tokens} tokens; "
        f"Parley: 1 worker, {args.backend}{' + Redis' if args.backend == 'postgres' else ''}; "
        f"RSS at rest {rss_mib(server.process.pid):.0f} MiB\n"
    )
    for clients in (int(c) for c in args.levels.split(",")):
        results = await bench.streams(clients)
        print_streams(clients, results)
        print(f"   Parley RSS after this level: {rss_mib(server.process.pid):.0f} MiB\n")
    for clients in (int(c) for c in args.turn_clients.split(",") if c):
        print_turns(clients, *await bench.turns(clients, args.turn_seconds))
    if args.idle_sockets:
        kib = await bench.idle_socket_kib(args.idle_sockets)
        print(f"idle WebSocket connections: {args.idle_sockets} open, {kib:.1f} KiB each (RSS)")
    print_server_warnings(server.logs())
    if args.server_log:
        Path(args.server_log).write_text(server.logs())


def main() -> None:
    parser = argparse.ArgumentParser(description="chat streaming and stored-turn benchmark")
    parser.add_argument("--levels", default="10,1000", help="concurrent streams per level")
    parser.add_argument("--streams", type=int, default=120, help="replies per target and level")
    parser.add_argument("--cycles", type=int, default=2, help="alternations of the targets")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--gap-ms", type=float, default=50.0)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--turn-clients", default="32")
    parser.add_argument("--turn-seconds", type=float, default=5.0)
    parser.add_argument("--idle-sockets", type=int, default=2000, help="0: skip")
    parser.add_argument("--server-log", default="", help="keep Parley's log in this file")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in pipes
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        backend = (postgres_backend if args.backend == "postgres" else sqlite_backend)(tmp / "db")
        stack.callback(lambda: [fn() for fn in backend.cleanup])
        mock = stack.enter_context(
            MockUpstream.start_process(ttft_ms=args.ttft_ms, gap_ms=args.gap_ms, tokens=args.tokens)
        )
        (tmp / "parley.toml").write_text(TOML.format(url=mock.url))
        env = {**backend.env, **ENV, "PARLEY_CONFIG": str(tmp / "parley.toml")}
        server = stack.enter_context(run_server(env, tmp))
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(run(args, server, mock))


if __name__ == "__main__":
    main()
