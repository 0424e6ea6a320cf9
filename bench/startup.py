"""Cold start to ready and memory per worker: `parley serve` from process start until
`/health/ready` answers 200, and its RSS at rest and after a short load.

    .venv/bin/python bench/startup.py [--backend sqlite|postgres|both] [--runs 5]
        [--compare /path/to/other/checkout] [--load-turns 200]

Each run starts a real `parley serve` (one worker, the command a user types, migrating
first on SQLite as `make run` does) against a database that is already migrated, polls
`/health/ready` every 10 ms, and records:

- wall time from `Popen` to the first 200 (what an operator waits for);
- the server's own CPU seconds (user + system, from /proc) at that moment, which a shared
  machine disturbs far less than wall time;
- RSS (`VmRSS`) after 2 s at rest, then again after ``--load-turns`` stored chat turns,
  a few searches and list requests (first run of each target only).

``--compare`` runs another checkout's ``src`` the same way, alternating with this one
run by run, so both see the same machine load; the figures are medians of ``--runs``.
``--compare-path`` adds import paths for that checkout only (for a package it needs that
this venv no longer has).
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
from tests.support.backends import postgres_backend, sqlite_backend  # noqa: E402
from tests.support.server import free_port  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
ENV = {
    "PARLEY_LIMITS_CHAT_PER_MINUTE": "1000000",
    "PARLEY_LIMITS_DEFAULT_PER_MINUTE": "1000000",
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
    "PARLEY_LOG_LEVEL": "warning",
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Run:
    ready_s: float
    cpu_s: float
    rest_mib: float | None = None
    load_mib: float | None = None


@dataclass
class Target:
    name: str
    root: Path
    extra_path: str = ""
    runs: list[Run] = field(default_factory=list)


async def load(base_url: str, turns: int) -> None:
    """A short, mixed load: stored turns over a few conversations, searches and lists."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        reg = await http.post(
            "/api/v1/auth/register", json={"email": email, "password": "bench password 1"}
        )
        assert reg.status_code == 201, reg.text
        headers = {"Authorization": f"Bearer {reg.json()['access_token']}"}

        async def client(count: int) -> None:
            made = await http.post("/api/v1/conversations", json={}, headers=headers)
            path = f"/api/v1/conversations/{made.json()['id']}/messages"
            for i in range(count):
                sent = await http.post(path, json={"content": f"hello {i}"}, headers=headers)
                assert sent.status_code == 201, sent.text

        await asyncio.gather(*(client(turns // 5) for _ in range(5)))
        for q in ("hello", "hello 3", "nothing like it"):
            found = await http.get("/api/v1/search", params={"q": q}, headers=headers)
            assert found.status_code == 200, found.text
        listed = await http.get("/api/v1/conversations", headers=headers)
        assert listed.status_code == 200, listed.text


def one_run(target: Target, env: dict[str, str], workdir: Path, turns: int, measure_memory: bool):
    port = free_port()
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
        **env,
        "PARLEY_HOST": "127.0.0.1",
        "PARLEY_PORT": str(port),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(target.root / "src"), target.extra_path) if p
        ),
    }
    url = f"http://127.0.0.1:{port}"
    with (workdir / f"server-{port}.log").open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"],
            env=full_env,
            cwd=str(workdir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(timeout=1) as poll:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{target.name}: server exited early, see {workdir}")
                try:
                    if poll.get(f"{url}/health/ready").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
        run = Run(time.perf_counter() - started, cpu_seconds(process.pid))
        if measure_memory:
            time.sleep(2.0)
            run.rest_mib = rss_mib(process.pid)
            asyncio.run(load(url, turns))
            time.sleep(1.0)
            run.load_mib = rss_mib(process.pid)
        return run
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def bench_backend(backend_name: str, targets: list[Target], runs: int, turns: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        make = postgres_backend if backend_name == "postgres" else sqlite_backend
        backend = make(Path(data))
        env = {**backend.env, **ENV, "PARLEY_DATA_DIR": data}
        try:
            for i in range(runs):
                for target in targets:
                    target.runs.append(one_run(target, env, Path(data), turns, i == 0))
        finally:
            for cleanup in backend.cleanup:
                cleanup()


def report(backend_name: str, targets: list[Target], turns: int) -> None:
    print(f"\ncold start and memory, {backend_name}, median of {len(targets[0].runs)} runs")
    print(
        f"{'target':<44} {'ready s':>8} {'min':>6} {'CPU s':>6} "
        f"{'RSS rest':>9} {f'after {turns} turns':>16}"
    )
    for t in targets:
        ready = [r.ready_s for r in t.runs]
        cpu = statistics.median(r.cpu_s for r in t.runs)
        mem = t.runs[0]
        print(
            f"{t.name:<44} {statistics.median(ready):>8.2f} {min(ready):>6.2f} {cpu:>6.2f} "
            f"{mem.rest_mib or 0:>6.0f} MiB {mem.load_mib or 0:>12.0f} MiB"
        )
    if len(targets) == 2:
        a, b = (statistics.median(r.cpu_s for r in t.runs) for t in targets)
        print(f"CPU to ready, this / compare: {a / b:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description="cold start to ready and RSS of parley serve")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--load-turns", type=int, default=200)
    parser.add_argument("--compare", default="", help="another checkout to measure alongside")
    parser.add_argument(
        "--compare-path",
        default="",
        help="extra import path for --compare (packages it needs that this venv no longer has, "
        "e.g. `pip install --no-deps --target DIR advanced-alchemy`)",
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend_name in backends:
        targets = [Target("this checkout", ROOT)]
        if args.compare:
            targets.append(
                Target(f"compare: {args.compare}", Path(args.compare), args.compare_path)
            )
        bench_backend(backend_name, targets, args.runs, args.load_turns)
        report(backend_name, targets, args.load_turns)
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
