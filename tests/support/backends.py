"""Provision the two storage backends the suite runs on.

``sqlite``: a file under a temp dir, in-process adapters (the embedded default).
``postgres``: a fresh PostgreSQL database and a private Redis key prefix per test session,
both removed afterwards. Under CI=true an unreachable server is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

PG_ADMIN_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Every test client logs in from one address; tests of the IP throttle set their own limit.
TEST_ENV = {"PARLEY_AUTH_LOGIN_PER_IP_PER_MINUTE": "100000"}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass
class Backend:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    cleanup: list = field(default_factory=list)

    @property
    def uses_redis(self) -> bool:
        return "PARLEY_REDIS_URL" in self.env


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_servers() -> None:
    missing = [
        name
        for name, url, port in (("PostgreSQL", PG_ADMIN_URL, 5432), ("Redis", REDIS_URL, 6379))
        if not _reachable(url, port)
    ]
    if not missing:
        return
    message = f"{' and '.join(missing)} not reachable ({PG_ADMIN_URL}, {REDIS_URL})"
    if IN_CI:
        pytest.fail(f"CI needs real servers: {message}", pytrace=False)
    pytest.skip(f"{message}; start them to run the server-backed half of the suite")


async def _migrate(url: str) -> None:
    from adapters.persistence.database import create_engine
    from adapters.persistence.migrate import upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def sqlite_backend(tmp: Path) -> Backend:
    tmp.mkdir(parents=True, exist_ok=True)
    env = {"PARLEY_DATA_DIR": str(tmp), "PARLEY_ENV": "test", **TEST_ENV}
    url = f"sqlite+aiosqlite:///{tmp / 'parley.db'}"
    asyncio.run(_migrate(url))
    return Backend("sqlite", env)


def postgres_backend(tmp: Path) -> Backend:
    import asyncpg
    import redis

    require_servers()
    db_name = f"parley_test_{uuid.uuid4().hex[:12]}"
    prefix = f"parley-test-{uuid.uuid4().hex[:12]}:"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{db_name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        finally:
            await conn.close()

    def drop_keys() -> None:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            # The job queue's keys: saq:<queue>:... and saq:job:<queue>:..., queue = prefix+name
            keys += list(client.scan_iter(match=f"saq:*{prefix}*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
        finally:
            client.close()

    asyncio.run(create())
    parsed = urlparse(PG_ADMIN_URL)
    url = f"postgresql+asyncpg://{parsed.netloc}/{db_name}"
    backend = Backend(
        "postgres",
        {
            "PARLEY_DATA_DIR": str(tmp),
            "PARLEY_ENV": "test",
            "PARLEY_DATABASE_URL": url,
            "PARLEY_REDIS_URL": REDIS_URL,
            "PARLEY_REDIS_KEY_PREFIX": prefix,
            **TEST_ENV,
        },
        cleanup=[lambda: asyncio.run(drop()), drop_keys],
    )
    try:
        asyncio.run(_migrate(url))
    except BaseException:
        for fn in backend.cleanup:
            fn()
        raise
    return backend
