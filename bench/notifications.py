"""P7/P4 push benchmark: how long a notification takes to reach 1,000 open WebSockets of its
owner, next to a bare ``websockets`` server broadcasting the same frame to as many sockets.

    .venv/bin/python bench/notifications.py [--sockets 1000] [--rounds 20] \
        [--backend postgres|sqlite]

postgres (PostgreSQL + Redis): two `parley serve` instances, the sockets split evenly
between them. Each round, this process calls NotifyUser through the production container
(what a job does when it finishes: store the notification, then publish it on Redis); every
socket's ``notification`` frame is timed from just before that call. So the latency includes
the database commit, the Redis hop, each instance's fan-out and the socket writes.
sqlite (the embedded default): one process holds every socket and its bus is in-process,
so nothing outside that process can notify; the same fan-out is measured with
``message.completed``, triggered by a stored REST turn of the owner and timed from the
request (the turn itself, model and storage included, is part of it).
Bare: as many plain ``websockets`` server processes as Parley instances, each broadcasting
a frame of the same size to its share of the sockets when a trigger frame arrives; timed
from sending the trigger. Targets alternate each round so drift on this shared machine hits
both alike. Client and servers share the machine's cores: read the ratio, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
import uvloop  # noqa: E402
from bench.chat_report import pct, rss_mib  # noqa: E402  # pct: in ms
from tests.support.backends import postgres_backend, sqlite_backend  # noqa: E402
from tests.support.server import RunningServer, free_port, run_server  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

HOST = "127.0.0.1"
ROUND_TIMEOUT_S = 15.0
BODY = "Your research report is ready: 5 sections, 2,400 words."
ENV = {
    "PARLEY_WS_MESSAGES_PER_MINUTE": "1000000",
    "PARLEY_LIMITS_CHAT_PER_MINUTE": "1000000",
    "PARLEY_LIMITS_DEFAULT_PER_MINUTE": "1000000",
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    "PARLEY_LOG_LEVEL": "warning",
}


class Sockets:
    """Client sockets that timestamp every pushed frame into the current round."""

    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.arrivals: list[float] = []
        self.expected = 0
        self.complete = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []

    async def open(self, urls: list[str], greeting: bool) -> None:
        gate = asyncio.Semaphore(64)

        async def one(url: str) -> ClientConnection:
            async with gate:
                ws = await connect(url, compression=None, open_timeout=120, ping_interval=None)
                if greeting:
                    await ws.recv()  # Parley's ``ready``
                return ws

        self.sockets = list(await asyncio.gather(*(one(u) for u in urls)))
        self._readers = [asyncio.create_task(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                if '"notification"' in raw or '"message.completed"' in raw:
                    self.arrivals.append(time.perf_counter())
                    if len(self.arrivals) >= self.expected:
                        self.complete.set()

    async def round(self, trigger: Callable[[], Awaitable[None]]) -> list[float]:
        """Latencies (s) of one push to every socket, from just before ``trigger``."""
        self.arrivals, self.expected = [], len(self.sockets)
        self.complete.clear()
        started = time.perf_counter()
        await trigger()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.complete.wait(), ROUND_TIMEOUT_S)
        missing = self.expected - len(self.arrivals)
        return [a - started for a in self.arrivals] + [float("inf")] * missing

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


# --- the bare websockets server (a subprocess of this script) ------------------------------


def bare_server(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    clients: set = set()

    async def handler(ws) -> None:  # type: ignore[no-untyped-def]
        clients.add(ws)
        try:
            async for raw in ws:  # any frame is a trigger: broadcast it to everyone else
                broadcast([c for c in clients if c is not ws], raw)
        finally:
            clients.discard(ws)

    async def main() -> None:
        async with serve(handler, HOST, port, compression=None, ping_interval=None):
            print("ready", flush=True)
            await asyncio.Future()

    uvloop.run(main())


@contextlib.contextmanager
def bare_servers(count: int):  # type: ignore[no-untyped-def]
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--bare-server", str(p)], stdout=subprocess.PIPE, text=True
        )
        for p in ports
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


# --- the run --------------------------------------------------------------------------------


def notification_frame(round_no: int) -> str:
    """What Parley pushes, for the bare server to broadcast (same size, same shape)."""
    note = {"id": str(uuid.uuid4()), "kind": "job.finished", "title": f"round {round_no}",
            "body": BODY, "data": {"job_id": str(uuid.uuid4()), "round": round_no},
            "read": False, "created_at": "2026-12-01T10:00:00.000000Z"}  # fmt: skip
    return json.dumps({"type": "notification", "notification": note})


async def sign_up(server: RunningServer) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        body = {"email": f"bench-{uuid.uuid4().hex[:12]}@example.com",
                "password": "correct horse battery staple"}  # fmt: skip
        made = (await http.post("/api/v1/auth/register", json=body)).raise_for_status().json()
    return made["access_token"], made["user"]["id"]


async def run(args: argparse.Namespace, servers: list[RunningServer], env: dict) -> None:
    token, user_id = await sign_up(servers[0])
    n = args.sockets
    parley, bare = Sockets(), Sockets()
    urls = [f"ws://{HOST}:{servers[i % len(servers)].port}/api/v1/ws?token={token}"
            for i in range(n)]  # fmt: skip
    await parley.open(urls, greeting=True)
    trigger_parley, close_trigger = await parley_trigger(args, servers, env, token, user_id)

    with bare_servers(len(servers)) as ports:
        await bare.open([f"ws://{HOST}:{ports[i % len(ports)]}" for i in range(n)], False)
        triggers = [await connect(f"ws://{HOST}:{p}", compression=None) for p in ports]

        async def trigger_bare(round_no: int) -> None:
            frame = notification_frame(round_no)
            await asyncio.gather(*(t.send(frame) for t in triggers))

        results: dict[str, list[float]] = {"parley": [], "bare": []}
        worst: dict[str, list[float]] = {"parley": [], "bare": []}
        for round_no in range(args.warmup + args.rounds):
            for name, sockets, fire in (("parley", parley, trigger_parley),
                                        ("bare", bare, trigger_bare)):  # fmt: skip
                latencies = await sockets.round(lambda f=fire, r=round_no: f(r))
                if round_no >= args.warmup:
                    results[name] += latencies
                    worst[name].append(max(latencies))
                await asyncio.sleep(0.2)
        for t in triggers:
            await t.close()
        await bare.close()
    rss = sum(rss_mib(s.process.pid) for s in servers)
    await parley.close()
    await close_trigger()
    report(args, len(servers), results, worst, rss)


async def parley_trigger(args, servers, env, token, user_id):  # type: ignore[no-untyped-def]
    if args.backend == "sqlite":  # in-process bus: only a turn inside the server can push
        http = httpx.AsyncClient(base_url=servers[0].base_url, timeout=60)
        headers = {"Authorization": f"Bearer {token}"}
        made = await http.post("/api/v1/conversations", json={}, headers=headers)
        path = f"/api/v1/conversations/{made.json()['id']}/messages"

        async def turn(round_no: int) -> None:
            await http.post(path, json={"content": f"round {round_no}"}, headers=headers)

        return turn, http.aclose

    from application.notifications.notify_user import NotifyUser, NotifyUserCommand
    from entrypoints.ioc import create_container
    from entrypoints.settings import load_settings

    container = create_container(load_settings(env, toml_path="/nonexistent.toml"))
    notify = await container.get(NotifyUser)
    owner = uuid.UUID(user_id)

    async def notification(round_no: int) -> None:
        data = {"job_id": str(uuid.uuid4()), "round": round_no}
        await notify(NotifyUserCommand(owner, "job.finished", f"round {round_no}", BODY, data))

    return notification, container.close


def report(args, instances, results, worst, rss) -> None:  # type: ignore[no-untyped-def]
    mode = "PostgreSQL + Redis" if args.backend == "postgres" else "embedded (SQLite, in-process)"
    what = "notification" if args.backend == "postgres" else "message.completed (REST turn)"
    print(f"{args.sockets} sockets over {instances} instance(s), {mode}; push: {what}; "
          f"{args.rounds} rounds (+{args.warmup} warm-up)\n")  # fmt: skip
    print(f"{'target':<8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'all-reached p50 ms':>19} "
          f"{'lost':>5}")  # fmt: skip
    for name in ("parley", "bare"):
        values = results[name]
        lost = sum(1 for v in values if v == float("inf"))
        ok = [v for v in values if v != float("inf")] or [float("nan")]
        print(f"{name:<8} {pct(ok, 50):8.1f} {pct(ok, 99):8.1f} "
              f"{max(ok) * 1000:8.1f} {pct(worst[name], 50):19.1f} {lost:5d}")  # fmt: skip
    p, b = (pct([v for v in results[k] if v != float("inf")], 99) for k in ("parley", "bare"))
    print(f"\nParley p99 / bare p99: {p / b:.2f}x (P4 target <= 1.2x; P7 target p99 <= 1000 ms)")
    print(
        f"Parley RSS with {args.sockets} sockets open: {rss:.0f} MiB over {instances} process(es)"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--bare-server":
        bare_server(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description="notification push latency benchmark")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        backend = (postgres_backend if args.backend == "postgres" else sqlite_backend)(tmp / "db")
        stack.callback(lambda: [fn() for fn in backend.cleanup])
        env = {**backend.env, **ENV}
        instances = 2 if args.backend == "postgres" else 1
        servers = [stack.enter_context(run_server(env, tmp)) for _ in range(instances)]
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(run(args, servers, env))


if __name__ == "__main__":
    main()
