"""P3 detail: server CPU milliseconds per stored chat turn, optionally against another
checkout in the same run, and a py-spy profile of the server while it works.

    .venv/bin/python bench/turn_cpu.py [--backend sqlite|postgres] [--turns 600]
        [--concurrency 10] [--compare /path/to/other/checkout [--rounds 10]]
        [--profile /tmp/turn.svg] [--round-trips]

Each target is a real `parley serve` (one worker) with the instant fake model. After a
warm-up, ``turns`` non-streaming `POST /api/v1/conversations/{id}/messages` are sent by
``concurrency`` clients; the server process's own CPU time (user + system, from /proc) is
read before and after, so the load generator's work is not counted. Turns/s is reported
too, but on a shared machine CPU per turn is the steadier figure; the event-loop thread's
share is shown apart (on SQLite the rest is the connection threads). ``--compare`` runs
another checkout's ``src`` (for example `git worktree add` of the previous commit) at the
same time, each server on its own database, and alternates short bursts of turns between
them (``--rounds``), so load from elsewhere on the machine hits both alike. ``--profile``
records the server with py-spy, sampling only the thread that holds the GIL.
``--round-trips`` first counts the server's socket writes to PostgreSQL and Redis per turn
with strace (one write is one request to either), then measures as usual.
``--callgrind N`` serves every target under ``valgrind --tool=callgrind`` (instrumentation
off until after the warm-up) and prints user-space instructions per turn over ``N`` turns
each, less what the server runs idle for as long: a figure the machine's load cannot move.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
import tests.support.server as server_support  # noqa: E402
from tests.support.backends import Backend, postgres_backend, sqlite_backend  # noqa: E402

ENV = {
    "PARLEY_LIMITS_CHAT_PER_MINUTE": "1000000",
    "PARLEY_LIMITS_DEFAULT_PER_MINUTE": "1000000",
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    "PARLEY_LOG_LEVEL": "warning",
    # Enough for 10 clients plus the replies' own statements, and modest on a PostgreSQL
    # server shared with others (--compare runs two servers at once).
    "PARLEY_DATABASE_POOL_SIZE": "12",
    "PARLEY_DATABASE_MAX_OVERFLOW": "4",
}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def loop_thread_seconds(pid: int) -> float:
    """CPU of the server's main thread (the event loop) alone; the rest is other threads
    (aiosqlite's connection threads on SQLite)."""
    return cpu_seconds_of(Path(f"/proc/{pid}/task/{pid}/stat"))


def cpu_seconds_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def measure(
    base_url: str, pid: int, turns: int, concurrency: int
) -> tuple[float, float, float]:
    """(server CPU ms per turn, turns per second, event-loop thread's CPU ms per turn)."""
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        reg = await http.post(
            "/api/v1/auth/register", json={"email": email, "password": "bench password 1"}
        )
        headers = {"Authorization": f"Bearer {reg.json()['access_token']}"}
        ids = []
        for _ in range(concurrency):
            made = await http.post("/api/v1/conversations", json={}, headers=headers)
            ids.append(made.json()["id"])

        async def client(i: int, count: int) -> None:
            path = f"/api/v1/conversations/{ids[i]}/messages"
            for _ in range(count):
                sent = await http.post(path, json={"content": "Say hello"}, headers=headers)
                assert sent.status_code == 201, sent.text

        await asyncio.gather(*(client(i, 10) for i in range(concurrency)))  # warm-up
        per_client = max(1, turns // concurrency)
        cpu0, loop0, wall0 = cpu_seconds(pid), loop_thread_seconds(pid), time.perf_counter()
        await asyncio.gather(*(client(i, per_client) for i in range(concurrency)))
        cpu, wall = cpu_seconds(pid) - cpu0, time.perf_counter() - wall0
        loop = loop_thread_seconds(pid) - loop0
    done = per_client * concurrency
    return cpu * 1000 / done, done / wall, loop * 1000 / done


class Target:
    """One server under load, measured burst by burst (for interleaving)."""

    def __init__(self, name: str, base_url: str, pid: int, concurrency: int) -> None:
        self.name, self.pid, self.concurrency = name, pid, concurrency
        limits = httpx.Limits(max_connections=concurrency)
        self.http = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30)
        self.headers: dict[str, str] = {}
        self.ids: list[str] = []
        self.cpu = self.loop = self.wall = 0.0
        self.turns = 0
        self.idle_s = 0.0

    async def setup(self) -> None:
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        reg = await self.http.post(
            "/api/v1/auth/register", json={"email": email, "password": "bench password 1"}
        )
        self.headers = {"Authorization": f"Bearer {reg.json()['access_token']}"}
        for _ in range(self.concurrency):
            made = await self.http.post("/api/v1/conversations", json={}, headers=self.headers)
            self.ids.append(made.json()["id"])
        await self._send(10)  # warm-up

    async def _send(self, per_client: int) -> None:
        async def client(i: int) -> None:
            path = f"/api/v1/conversations/{self.ids[i]}/messages"
            for _ in range(per_client):
                sent = await self.http.post(
                    path, json={"content": "Say hello"}, headers=self.headers
                )
                assert sent.status_code == 201, sent.text

        await asyncio.gather(*(client(i) for i in range(self.concurrency)))

    async def burst(self, per_client: int) -> None:
        cpu0, loop0 = cpu_seconds(self.pid), loop_thread_seconds(self.pid)
        wall0 = time.perf_counter()
        await self._send(per_client)
        self.wall += time.perf_counter() - wall0
        self.cpu += cpu_seconds(self.pid) - cpu0
        self.loop += loop_thread_seconds(self.pid) - loop0
        self.turns += per_client * self.concurrency

    def result(self) -> tuple[float, float, float]:
        return self.cpu * 1000 / self.turns, self.turns / self.wall, self.loop * 1000 / self.turns


def _callgrind_control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], capture_output=True, check=False)


def _callgrind_total(out: Path, pid: int, before: int) -> int:
    """Instructions in the dump just asked for, once valgrind has written it whole."""
    for _ in range(1200):
        dumps = sorted(out.glob(f"cg.{pid}.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
        if len(dumps) > before:
            totals = [ln for ln in dumps[-1].read_text().splitlines() if ln.startswith("totals:")]
            if totals:
                return int(totals[-1].split()[1])
        time.sleep(0.1)
    raise RuntimeError("callgrind wrote no dump")


async def _instructions(target: Target, out: Path, per_client: int) -> tuple[int, float]:
    """(instructions while ``per_client`` turns per client ran, seconds they took)."""
    pid = str(target.pid)
    _callgrind_control("-z", pid)
    _callgrind_control("-i", "on", pid)
    started = time.perf_counter()
    if per_client:
        await target._send(per_client)
    else:
        await asyncio.sleep(target.idle_s)
    elapsed = time.perf_counter() - started
    _callgrind_control("-i", "off", pid)
    before = len(list(out.glob(f"cg.{pid}.*")))
    _callgrind_control("-d", pid)
    return await asyncio.to_thread(_callgrind_total, out, target.pid, before), elapsed


async def count_instructions(targets: list[Target], out: Path, turns: int) -> None:
    for target in targets:
        await target.setup()
    per_client = max(1, turns // targets[0].concurrency)
    for target in targets:
        target.idle_s = 5.0
        idle, idle_s = await _instructions(target, out, 0)
        busy, busy_s = await _instructions(target, out, per_client)
        done = per_client * target.concurrency
        per = (busy - idle / idle_s * busy_s) / done / 1e6
        print(f"{target.name:<48} {per:8.2f} M instructions/turn over {done} turns "
              f"(idle {idle / idle_s / 1e6:.1f} M/s subtracted)", flush=True)  # fmt: skip
    for target in targets:
        await target.http.aclose()


async def interleave(targets: list[Target], turns: int, rounds: int) -> None:
    """Short bursts, alternating targets: whatever else loads the machine hits each alike."""
    for target in targets:
        await target.setup()
    per_client = max(1, turns // rounds // targets[0].concurrency)
    for round_ in range(rounds):
        for target in targets if round_ % 2 == 0 else reversed(targets):
            await target.burst(per_client)
    for target in targets:
        await target.http.aclose()


def run_interleaved(
    roots: list[tuple[str, Path]], make: Callable[[Path], Backend], args: argparse.Namespace
) -> dict[str, tuple[float, float, float]]:
    """Every target's server at once, each on its own database, measured in turns."""
    with contextlib.ExitStack() as stack:
        out = Path(args.keep or stack.enter_context(tempfile.TemporaryDirectory()))
        if args.callgrind:
            stack.enter_context(_under_callgrind(out))
        targets = []
        for name, root in roots:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            backend = make(data)
            for cleanup in backend.cleanup:
                stack.callback(cleanup)
            server_support.ROOT = root
            srv = stack.enter_context(
                server_support.run_server(
                    {**backend.env, **ENV, "PARLEY_DATA_DIR": str(data)}, data,
                    ready_timeout_s=900 if args.callgrind else 120,
                )
            )  # fmt: skip
            targets.append(Target(name, srv.base_url, srv.process.pid, args.concurrency))
        if args.callgrind:
            asyncio.run(count_instructions(targets, out, args.callgrind))
            return {}
        asyncio.run(interleave(targets, args.turns, args.rounds))
        return {t.name: t.result() for t in targets}


@contextlib.contextmanager
def _under_callgrind(out: Path) -> Iterator[None]:
    """Servers started meanwhile run under callgrind, instrumentation off."""
    real = subprocess.Popen

    def popen(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        if "entrypoints.cli" in cmd:
            cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                   f"--callgrind-out-file={out}/cg.%p", *cmd]  # fmt: skip
        return real(cmd, *args, **kwargs)

    server_support.subprocess.Popen = popen  # type: ignore[assignment]
    try:
        yield
    finally:
        server_support.subprocess.Popen = real  # type: ignore[assignment]


PORTS = {5432: "PostgreSQL", 6379: "Redis"}


def socket_ports(pid: int) -> dict[int, int]:
    """The server's open TCP sockets: file descriptor -> remote port."""
    inodes: dict[str, int] = {}
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        for line in path.read_text().splitlines()[1:] if path.exists() else ():
            fields = line.split()
            inodes[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    ports = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            link = os.readlink(fd)
            if link.startswith("socket:[") and link[8:-1] in inodes:
                ports[int(fd.name)] = inodes[link[8:-1]]
    return ports


async def count_round_trips(base_url: str, pid: int, turns: int, concurrency: int) -> None:
    """Socket writes per turn to PostgreSQL and Redis (each request to either is one write:
    asyncpg sends a statement's messages, redis-py a pipeline, in one), counted with strace
    on the server during ``turns`` turns after the warm-up."""
    target = Target("trace", base_url, pid, concurrency)
    await target.setup()
    with tempfile.NamedTemporaryFile(suffix=".strace") as out:
        tracer = subprocess.Popen(
            ["strace", "-f", "-qq", "-e", "trace=write,sendto,sendmsg,writev", "-e",
             "signal=none", "-o", out.name, "-p", str(pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        await asyncio.sleep(1.5)  # attached to every thread
        await target.burst(max(1, turns // concurrency))
        await asyncio.sleep(0.5)  # the last replies' own writes
        ports = socket_ports(pid)
        tracer.send_signal(2)
        tracer.wait(30)
        counts: dict[str, int] = {}
        for line in Path(out.name).read_text().splitlines():
            call = line.split(None, 1)[-1]
            if "(" not in call:
                continue
            fd = call.split("(", 1)[1].split(",", 1)[0]
            if fd.isdigit() and (port := ports.get(int(fd))) in PORTS:
                counts[PORTS[port]] = counts.get(PORTS[port], 0) + 1
    await target.http.aclose()
    for name in PORTS.values():
        print(f"round trips per turn, {name}: {counts.get(name, 0) / target.turns:.2f}")


def run_target(src_root: Path, env: dict[str, str], args: argparse.Namespace, profile: str):
    server_support.ROOT = src_root
    with (
        tempfile.TemporaryDirectory() as tmp,
        server_support.run_server(env, Path(tmp), ready_timeout_s=120) as srv,
    ):
        spy = None
        if profile:
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "-o", profile,
                 "--pid", str(srv.process.pid), "--rate", "250", "--nonblocking",
                 # Only the thread holding the GIL: CPU spent, not threads idling.
                 "--gil",
                 *(["--format", "raw"] if profile.endswith(".txt") else [])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.0)
        try:
            if args.round_trips:
                asyncio.run(
                    count_round_trips(srv.base_url, srv.process.pid, args.turns, args.concurrency)
                )
            return asyncio.run(measure(srv.base_url, srv.process.pid, args.turns, args.concurrency))
        finally:
            if spy is not None:
                spy.send_signal(2)
                spy.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description="server CPU per stored chat turn")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--compare", default="", help="another checkout to measure alongside")
    parser.add_argument(
        "--profile", default="", help="py-spy profile of this checkout: .svg, or .txt (collapsed)"
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="with --compare: bursts per target, alternating"
    )
    parser.add_argument(
        "--callgrind",
        type=int,
        default=0,
        metavar="TURNS",
        help="instructions per turn under callgrind over TURNS turns (with or without --compare)",
    )
    parser.add_argument(
        "--keep", default="", help="with --callgrind: keep the dumps in this directory"
    )
    parser.add_argument(
        "--round-trips",
        action="store_true",
        help="without --compare: also count PostgreSQL and Redis round trips per turn (strace)",
    )
    args = parser.parse_args()
    make = postgres_backend if args.backend == "postgres" else sqlite_backend
    if args.callgrind:
        roots = [("this checkout", ROOT)]
        if args.compare:
            roots.append((f"compare: {args.compare}", Path(args.compare)))
        print(f"instructions per stored turn, {args.backend}, concurrency {args.concurrency}")
        run_interleaved(roots, make, args)
        return
    if args.compare:
        compared = run_interleaved(
            [("this checkout", ROOT), (f"compare: {args.compare}", Path(args.compare))],
            make,
            args,
        )
        print(f"\nstored turns, {args.backend}, concurrency {args.concurrency}, {args.turns} "
              f"turns per target in {args.rounds} alternating bursts")  # fmt: skip
        print(f"{'target':<48} {'CPU ms/turn':>12} {'loop thread':>12} {'turns/s':>9}")
        for name, (cpu, rate, loop) in compared.items():
            print(f"{name:<48} {cpu:>12.2f} {loop:>12.2f} {rate:>9.0f}")
        mine, other = (r[0] for r in compared.values())
        print(f"CPU per turn, this / compare: {mine / other:.2f}x")
        return
    with tempfile.TemporaryDirectory() as data:
        backend = make(Path(data))
        env = {**backend.env, **ENV, "PARLEY_DATA_DIR": data}
        targets = [("this checkout", ROOT)]
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in targets}
        try:
            for cycle in range(args.cycles):
                for name, root in targets:
                    profile = args.profile if cycle == 0 and root == ROOT else ""
                    result = run_target(root, env, args, profile)
                    results[name].append(result)
                    cpu, rate = result[0], result[1]
                    print(f"  cycle {cycle + 1}, {name}: {cpu:.2f} ms/turn, {rate:.0f}/s")
        finally:
            for cleanup in backend.cleanup:
                cleanup()
    print(f"\nstored turns, {args.backend}, concurrency {args.concurrency}, {args.turns} turns")
    print(f"{'target':<48} {'CPU ms/turn':>12} {'loop thread':>12} {'turns/s':>9}")
    for name, runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        rate = statistics.median(r[1] for r in runs)
        loop = statistics.median(r[2] for r in runs)
        print(f"{name:<48} {cpu:>12.2f} {loop:>12.2f} {rate:>9.0f}")


if __name__ == "__main__":
    main()
