"""P7 jobs benchmark: no-op jobs per second through each job queue, side by side.

    .venv/bin/python bench/jobs.py [--jobs 3000] [--concurrency 20]

Rows (same run, same machine):
- ``saq only``: SAQ on Redis with a no-op function, no database: the library's ceiling.
- ``redis + 1 worker``: the full path on PostgreSQL + Redis. Job rows are stored, their
  ids enqueued, and one real `parley worker --concurrency N` process claims, runs and
  finishes each (lease, result, outcome) through the jobs table.
- ``in-process (sqlite)`` / ``in-process (postgres)``: the embedded pool of
  `parley serve` (here in the benchmark process), same full path, no Redis.
Timing starts at the first enqueue (the rows already exist) and stops when the last job is
stored ``succeeded``. Loopback only, bounded loops; the load generator shares the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


async def saq_only(jobs: int, concurrency: int) -> float:
    from adapters.redis.job_queue import SaqJobQueue, SaqOptions, saq_queue, saq_worker
    from application.jobs.run_job import Outcome, RunResult

    name = f"parley-bench-{uuid.uuid4().hex[:8]}:jobs"
    options = SaqOptions(name=name, timeout_s=60, heartbeat_s=30, retries=1)
    queue = SaqJobQueue(saq_queue(REDIS_URL, name, socket_timeout_s=None), options)
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
    started = time.perf_counter()
    await _enqueue_all(queue.enqueue, ids)
    await asyncio.wait_for(done.wait(), 300)
    elapsed = time.perf_counter() - started
    await worker.stop()
    running.cancel()
    redis = queue.saq.redis  # type: ignore[attr-defined]
    keys = [k async for k in redis.scan_iter(match=f"saq:*{name}*")]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start : start + 500])
    await queue.aclose()
    return jobs / elapsed


async def _enqueue_all(enqueue: Callable[..., Awaitable[None]], ids: list[uuid.UUID]) -> None:
    """Eight concurrent producers, like API instances enqueueing at once."""
    chunks = [ids[n::8] for n in range(8)]
    await asyncio.gather(*(enqueue(chunk) for chunk in chunks))


async def full_path(backend: Backend, jobs: int, concurrency: int, log_dir: Path) -> float:
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
            if settings.redis.url:
                stack.enter_context(run_worker(env, log_dir, concurrency=concurrency))
                await _wait_for_worker(queue)
            else:
                await (await container.get(EmbeddedJobs)).start()
            started = time.perf_counter()
            await _enqueue_all(queue.enqueue, ids)
            await _wait_until_done(engine, jobs, owner)
            elapsed = time.perf_counter() - started
        return jobs / elapsed
    finally:
        await container.close()


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


def main() -> None:
    from entrypoints.logging import configure_logging

    configure_logging("warning")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        rows.append(("saq only (no database)", asyncio.run(saq_only(args.jobs, args.concurrency))))
        pg = postgres_backend(base / "pg")
        try:
            rows.append(
                (
                    "redis + 1 worker (postgres)",
                    asyncio.run(full_path(pg, args.jobs, args.concurrency, base)),
                )
            )
            no_redis = Backend(
                "postgres-embedded",
                {k: v for k, v in pg.env.items() if not k.startswith("PARLEY_REDIS")},
            )
            rows.append(
                (
                    "in-process (postgres)",
                    asyncio.run(full_path(no_redis, args.jobs, args.concurrency, base)),
                )
            )
        finally:
            for fn in pg.cleanup:
                fn()
        lite = sqlite_backend(base / "lite")
        rows.append(
            ("in-process (sqlite)", asyncio.run(full_path(lite, args.jobs, args.concurrency, base)))
        )
    print(f"\nno-op jobs/s, {args.jobs} jobs, concurrency {args.concurrency} (P7: >= 500/s Redis)")
    print(f"{'queue':<32}{'jobs/s':>10}")
    for name, rate in rows:
        print(f"{name:<32}{rate:>10.0f}")


if __name__ == "__main__":
    main()
