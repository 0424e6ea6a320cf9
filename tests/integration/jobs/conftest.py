"""A jobs-enabled app per backend: the embedded pool (SQLite) or an in-loop `parley worker`
(PostgreSQL + Redis), with a fake model slow enough to catch a job while it runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from entrypoints.settings import Settings
from tests.conftest import make_settings
from tests.integration.chat.support import in_loop_client
from tests.support.backends import Backend

JOB_ENV = {
    "PARLEY_FAKE_GAP_MS": "15",
    "PARLEY_JOBS_HEARTBEAT_S": "0.2",
    "PARLEY_JOBS_RETRY_DELAY_S": "0.1",
    "PARLEY_JOBS_SWEEP_INTERVAL_S": "1",
    "PARLEY_JOBS_QUEUE_NAME": "jobs-api",
    "PARLEY_JOBS_SHUTDOWN_GRACE_S": "0",
}


@pytest.fixture(scope="module")
def jobs_settings(backend: Backend) -> Settings:
    return make_settings(backend, **JOB_ENV)


@pytest.fixture(scope="module")
async def jobs_client(jobs_settings: Settings) -> AsyncIterator[AsyncClient]:
    from entrypoints.http.app import create_app
    from entrypoints.ioc import create_container
    from entrypoints.job_worker import JobWorker

    app = create_app(jobs_settings)
    worker_container = create_container(jobs_settings) if jobs_settings.redis.url else None
    worker = JobWorker(worker_container, concurrency=4) if worker_container else None
    running = asyncio.create_task(worker.run()) if worker else None
    try:
        async with in_loop_client(app) as http:
            yield http
    finally:
        if worker is not None and running is not None and worker_container is not None:
            worker.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await worker_container.close()
