"""P3 detail: server CPU milliseconds per stored chat turn, optionally against another
checkout in the same run, and a py-spy profile of the server while it works.

    .venv/bin/python bench/turn_cpu.py [--backend sqlite|postgres] [--turns 600]
        [--concurrency 10] [--compare /path/to/other/checkout] [--profile /tmp/turn.svg]

Each target is a real `parley serve` (one worker) with the instant fake model. After a
warm-up, ``turns`` non-streaming `POST /api/v1/conversations/{id}/messages` are sent by
``concurrency`` clients; the server process's own CPU time (user + system, from /proc) is
read before and after, so the load generator's work is not counted. Turns/s is reported
too, but on a shared machine CPU per turn is the steadier figure. ``--compare`` runs the
same measurement on another checkout's ``src`` (for example `git worktree add` of the
previous commit), alternating targets ``--cycles`` times so drifting load hits both.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
import tests.support.server as server_support  # noqa: E402
from tests.support.backends import postgres_backend, sqlite_backend  # noqa: E402

ENV = {
    "PARLEY_LIMITS_CHAT_PER_MINUTE": "1000000",
    "PARLEY_LIMITS_DEFAULT_PER_MINUTE": "1000000",
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    "PARLEY_LOG_LEVEL": "warning",
    "PARLEY_DATABASE_POOL_SIZE": "20",
    "PARLEY_DATABASE_MAX_OVERFLOW": "20",
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


def run_target(src_root: Path, env: dict[str, str], args: argparse.Namespace, profile: str):
    server_support.ROOT = src_root
    with tempfile.TemporaryDirectory() as tmp, server_support.run_server(env, Path(tmp)) as srv:
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        make = postgres_backend if args.backend == "postgres" else sqlite_backend
        backend = make(Path(data))
        env = {**backend.env, **ENV, "PARLEY_DATA_DIR": data}
        targets = [("this checkout", ROOT)]
        if args.compare:
            targets.append((f"compare: {args.compare}", Path(args.compare)))
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
    if args.compare:
        mine, other = (statistics.median(r[0] for r in results[n]) for n, _ in targets)
        print(f"CPU per turn, this / compare: {mine / other:.2f}x")


if __name__ == "__main__":
    main()
