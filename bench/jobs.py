"""P7 jobs benchmark: no-op jobs per second through each job queue, side by side.

    .venv/bin/python bench/jobs.py [--jobs 3000] [--concurrency 20]
    .venv/bin/python bench/jobs.py --compare /tmp/before --rounds 3   # interleaved
    .venv/bin/python bench/jobs.py --rows redis --profile /tmp/worker.txt  # py-spy

Rows (same run, same machine):
- ``saq only``: SAQ's own Redis queue with a no-op function, no database: the library's
  ceiling. ``saq, parley's queue``: the same with the queue Parley builds (fewer round
  trips per job).
- ``redis + 1 worker``: the full path on PostgreSQL + Redis. Job rows are stored, their
  ids enqueued, and one real `parley worker --concurrency N` process claims, runs and
  finishes each (lease, result, outcome) through the jobs table.
- ``in-process (sqlite)`` / ``in-process (postgres)``: the embedded pool of
  `parley serve` (here in the benchmark process), same full path, no Redis.
Timing starts at the first enqueue (the rows already exist) and stops when the last job is
stored ``succeeded``. Loopback only, bounded loops; the load generator shares the cores.

Besides jobs/s (which swings with the machine's load) each row reports CPU per job, read
from /proc around the timed window: the `parley worker` process's own for the Redis row,
this process's for the others (there the enqueueing side and the completion poll are in
it too). ``--compare DIR`` runs another checkout's code (its ``src``, its worker) in
alternating rounds within the same run, each round in a fresh child process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ``--src DIR`` (set by ``--compare`` for its child runs): import that checkout instead.
if "--src" in sys.argv:
    ROOT = Path(sys.argv[sys.argv.index("--src") + 1]).resolve()
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from sqlalchemy import bindparam, text  # noqa: E402
from tests.e2e.jobs.support import run_worker  # noqa: E402
from tests.support.backends import (  # noqa: E402
    REDIS_URL,
    Backend,
    postgres_backend,
    sqlite_backend,
)

BENCH_ENV = {"PARLEY_LOG_LEVEL": "warning", "PARLEY_JOBS_SHUTDOWN_GRACE_S": "0"}
ROWS = {
    "saq": "saq only (no database)",
    "saq-parley": "saq, parley's queue (no db)",
    "redis": "redis + 1 worker (postgres)",
    "pg": "in-process (postgres)",
    "sqlite": "in-process (sqlite)",
}
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


class Measured:
    def __init__(self, jobs: int, seconds: float, cpu_s: float) -> None:
        self.rate = jobs / seconds
        self.cpu_ms = 1000 * cpu_s / jobs


async def saq_only(jobs: int, concurrency: int, *, stock: bool = True) -> Measured:
    """``stock``: SAQ's own RedisQueue; else the queue Parley builds (``saq_queue``)."""
    from redis import asyncio as aioredis
    from saq.queue.redis import RedisQueue

    from adapters.redis.job_queue import SaqJobQueue, SaqOptions, saq_queue, saq_worker
    from application.jobs.run_job import Outcome, RunResult

    name = f"parley-bench-{uuid.uuid4().hex[:8]}:jobs"
    options = SaqOptions(name=name, timeout_s=60, heartbeat_s=30, retries=1)
    saq = (
        RedisQueue(aioredis.from_url(REDIS_URL), name=name)
        if stock
        else saq_queue(REDIS_URL, name, socket_timeout_s=None)
    )
    queue = SaqJobQueue(saq, options)
    done = asyncio.Event()
    count = 0

    async def noop(job_id: uuid.UUID) -> RunResult:
        nonlocal count
        count += 1
        if count == jobs:
            done.set()
        return RunResult(Outcome.FINISHED)

    worker = saq_worker(
        queue,
        noop,
        concurrency=concurrency,
        worker_id="bench",
        sweep_s=60,
        heartbeat_s=30,
        shutdown_grace_s=0,
    )
    await queue.saq.connect()
    running = asyncio.create_task(worker.start())
    ids = [uuid.uuid4() for _ in range(jobs)]
    cpu = time.process_time()
    started = time.perf_counter()
    await _enqueue_all(queue.enqueue, ids)
    await asyncio.wait_for(done.wait(), 300)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    await worker.stop()
    running.cancel()
    redis = queue.saq.redis  # type: ignore[attr-defined]
    keys = [k async for k in redis.scan_iter(match=f"saq:*{name}*")]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start : start + 500])
    await queue.aclose()
    return Measured(jobs, elapsed, cpu)


async def _enqueue_all(enqueue: Callable[..., Awaitable[None]], ids: list[uuid.UUID]) -> None:
    """Eight concurrent producers, like API instances enqueueing at once."""
    chunks = [ids[n::8] for n in range(8)]
    await asyncio.gather(*(enqueue(chunk) for chunk in chunks))


async def full_path(
    backend: Backend, jobs: int, concurrency: int, log_dir: Path, profile: str = ""
) -> Measured:
    from dishka import AsyncContainer
    from sqlalchemy.ext.asyncio import AsyncEngine

    from application.ports.jobs import JobQueue
    from application.ports.unit_of_work import UnitOfWorkFactory
    from domain.jobs import Job
    from domain.users import User
    from entrypoints.ioc import create_container
    from entrypoints.jobs_runtime import EmbeddedJobs
    from entrypoints.settings import load_settings

    env = {
        **backend.env,
        **BENCH_ENV,
        "PARLEY_JOBS_CONCURRENCY": str(concurrency),
        "PARLEY_JOBS_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}",
    }
    settings = load_settings(env, toml_path="/nonexistent.toml")
    container: AsyncContainer = create_container(settings)
    try:
        engine = await container.get(AsyncEngine)
        owner = uuid.uuid4()
        uow_factory = await container.get(UnitOfWorkFactory)
        async with uow_factory() as uow:
            await uow.users.add(
                User(
                    owner,
                    f"{owner.hex}@bench.example",
                    "bench",
                    "user",
                    "unlimited",
                    True,
                    "unused",
                    datetime.now(UTC),
                )
            )
            await uow.commit()
        ids = [uuid.uuid4() for _ in range(jobs)]
        for start in range(0, jobs, 500):
            async with uow_factory() as uow:
                for job_id in ids[start : start + 500]:
                    await uow.jobs.add(
                        Job.submit(
                            id=job_id,
                            owner_id=owner,
                            kind="noop",
                            params={},
                            now=datetime.now(UTC),
                            visible=False,
                        )
                    )
                await uow.commit()
        queue = await container.get(JobQueue)
        with contextlib.ExitStack() as stack:
            pid = os.getpid()
            if settings.redis.url:
                worker = stack.enter_context(run_worker(env, log_dir, concurrency=concurrency))
                await _wait_for_worker(queue)
                pid = worker.process.pid
            else:
                await (await container.get(EmbeddedJobs)).start()
            if profile:
                stack.enter_context(_py_spy(pid, profile))
            cpu = process_cpu_s(pid)
            started = time.perf_counter()
            await _enqueue_all(queue.enqueue, ids)
            await _wait_until_done(engine, jobs, owner)
            elapsed = time.perf_counter() - started
            cpu = process_cpu_s(pid) - cpu
        return Measured(jobs, elapsed, cpu)
    finally:
        await container.close()


@contextlib.contextmanager
def _py_spy(pid: int, path: str):  # type: ignore[no-untyped-def]
    """Samples only the thread holding the GIL; ``.txt`` writes collapsed stacks."""
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--gil",
            "-r",
            "200",
            "-p",
            str(pid),
            "-o",
            path,
            *(["--format", "raw"] if path.endswith(".txt") else []),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(2)
        spy.wait(timeout=60)


async def _wait_for_worker(queue: object) -> None:
    for _ in range(300):
        if (await queue.info()).workers_alive:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the worker did not start")


async def _wait_until_done(engine: object, jobs: int, owner: uuid.UUID) -> None:
    from adapters.persistence.types import GUID

    query = text(
        "SELECT count(*) FROM jobs WHERE status = 'succeeded' AND owner_id = :owner"
    ).bindparams(bindparam("owner", type_=GUID(length=16)))
    for _ in range(6000):
        async with engine.connect() as conn:  # type: ignore[attr-defined]
            if (await conn.execute(query, {"owner": owner})).scalar_one() >= jobs:
                return
        await asyncio.sleep(0.05)
    raise RuntimeError("jobs did not finish in 5 minutes")


def run_rows(args: argparse.Namespace) -> dict[str, Measured]:
    rows: dict[str, Measured] = {}
    wanted = args.rows.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if "saq" in wanted:
            rows["saq"] = asyncio.run(saq_only(args.jobs, args.concurrency))
        if "saq-parley" in wanted:
            rows["saq-parley"] = asyncio.run(saq_only(args.jobs, args.concurrency, stock=False))
        if "redis" in wanted or "pg" in wanted:
            pg = postgres_backend(base / "pg")
            try:
                if "redis" in wanted:
                    rows["redis"] = asyncio.run(
                        full_path(pg, args.jobs, args.concurrency, base, args.profile)
                    )
                if "pg" in wanted:
                    no_redis = Backend(
                        "postgres-embedded",
                        {k: v for k, v in pg.env.items() if not k.startswith("PARLEY_REDIS")},
                    )
                    rows["pg"] = asyncio.run(full_path(no_redis, args.jobs, args.concurrency, base))
            finally:
                for fn in pg.cleanup:
                    fn()
        if "sqlite" in wanted:
            lite = sqlite_backend(base / "lite")
            rows["sqlite"] = asyncio.run(full_path(lite, args.jobs, args.concurrency, base))
    return rows


def compare(args: argparse.Namespace) -> None:
    """Alternate this checkout and ``--compare`` round by round; medians per row."""
    roots = {"this": Path(__file__).resolve().parents[1], "other": Path(args.compare).resolve()}
    got: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for label, root in roots.items():
            out = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--src",
                    str(root),
                    "--json",
                    "--jobs",
                    str(args.jobs),
                    "--concurrency",
                    str(args.concurrency),
                    "--rows",
                    args.rows,
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for key, (rate, cpu) in json.loads(out.strip().splitlines()[-1]).items():
                got.setdefault((key, label), []).append((rate, cpu))
    print(
        f"\nno-op jobs, {args.jobs} a run, concurrency {args.concurrency}, {args.rounds} "
        f"alternating rounds; medians (this = {roots['this']}, other = {roots['other']})"
    )
    print(
        f"{'queue':<30}{'jobs/s other':>14}{'jobs/s this':>13}{'CPU ms/job other':>18}"
        f"{'this':>8}{'ratio':>8}"
    )
    for key in args.rows.split(","):
        if (key, "this") not in got:
            continue
        this, other = got[(key, "this")], got[(key, "other")]
        rate_o, rate_t = (statistics.median(r for r, _ in x) for x in (other, this))
        cpu_o, cpu_t = (statistics.median(c for _, c in x) for x in (other, this))
        print(
            f"{ROWS[key]:<30}{rate_o:>14.0f}{rate_t:>13.0f}{cpu_o:>18.2f}{cpu_t:>8.2f}"
            f"{cpu_t / cpu_o:>7.2f}x"
        )
    print("each round, jobs/s / CPU ms per job, other | this:")
    for key in args.rows.split(","):
        if (key, "this") in got:
            rounds = zip(got[(key, "other")], got[(key, "this")], strict=True)
            cells = "  ".join(f"{o[0]:.0f}/{o[1]:.2f} | {t[0]:.0f}/{t[1]:.2f}" for o, t in rounds)
            print(f"  {key:<12}{cells}")


def main() -> None:
    from entrypoints.logging import configure_logging

    configure_logging("warning")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rows", default=",".join(ROWS), help="of: " + ",".join(ROWS))
    parser.add_argument("--compare", default="", help="another checkout, run alternately")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="", help="py-spy of the worker (redis row)")
    parser.add_argument("--src", default="", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
    rows = run_rows(args)
    if args.json:
        print(json.dumps({k: (m.rate, m.cpu_ms) for k, m in rows.items()}))
        return
    print(f"\nno-op jobs/s, {args.jobs} jobs, concurrency {args.concurrency} (P7: >= 500/s Redis)")
    print(f"{'queue':<32}{'jobs/s':>10}{'CPU ms/job':>12}")
    for key, m in rows.items():
        print(f"{ROWS[key]:<32}{m.rate:>10.0f}{m.cpu_ms:>12.2f}")


if __name__ == "__main__":
    main()
