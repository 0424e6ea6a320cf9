"""R21 measured: how fast Parley answers while its PostgreSQL is frozen or refusing, and
how fast it recovers. Private PostgreSQL cluster and redis-server, one `parley serve`.

    .venv/bin/python bench/faults.py [--requests 20]

Reported per phase: the wall time of each request (p50, max) and its status codes, the
/health/ready answer time, and how long after the cluster came back the first 200 arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
from tests.e2e.faults.test_postgres_outage_e2e import api_key  # noqa: E402
from tests.integration.usage.private_redis import private_redis  # noqa: E402
from tests.support.backends import migrate  # noqa: E402
from tests.support.private_postgres import private_postgres  # noqa: E402
from tests.support.server import run_server  # noqa: E402


async def timed(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        status = (await http.get(path, headers=headers)).status_code
    except httpx.TimeoutException:
        status = 0
    return time.perf_counter() - started, status


async def phase(base: str, key: dict[str, str], n: int) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        ready, replies = await asyncio.gather(
            timed(http, "/health/ready", {}),
            asyncio.gather(*(timed(http, "/api/v1/conversations", key) for _ in range(n))),
        )
    times = [t for t, _ in replies]
    codes = sorted({s for _, s in replies})
    return (
        f"p50 {statistics.median(times) * 1000:7.0f} ms  max {max(times) * 1000:7.0f} ms  "
        f"statuses {codes}  ready {ready[0] * 1000:5.0f} ms ({ready[1]})"
    )


def first_ok_after(base: str, key: dict[str, str]) -> float:
    started = time.perf_counter()
    while httpx.get(f"{base}/api/v1/conversations", headers=key, timeout=30).status_code != 200:
        time.sleep(0.02)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    n = parser.parse_args().requests
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-faults-"))
    with private_postgres() as cluster, private_redis(tmp) as redis:
        asyncio.run(migrate(cluster.url))
        env = {
            "PARLEY_ENV": "test",
            "PARLEY_DATA_DIR": str(tmp),
            "PARLEY_DATABASE_URL": cluster.url,
            "PARLEY_REDIS_URL": redis.url,
            "PARLEY_REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:6]}:",
        }
        with run_server(env, tmp) as server:
            base = server.base_url
            key = api_key(base)
            print(f"healthy            {asyncio.run(phase(base, key, n))}")
            cluster.freeze()
            print(f"frozen (SIGSTOP)   {asyncio.run(phase(base, key, n))}")
            cluster.thaw()
            print(f"thawed: first 200 after {first_ok_after(base, key) * 1000:.0f} ms")
            cluster.stop("fast")
            print(f"stopped            {asyncio.run(phase(base, key, n))}")
            cluster.start()
            print(f"restarted: first 200 after {first_ok_after(base, key) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
