"""What a real `parley serve` imports before it is ready: only what serving needs.

Python reports every module it imports when ``PYTHONPROFILEIMPORTTIME`` is set; the
server's log then lists each one, so the test reads the real process's startup (the CLI,
the migration check, the app factory, the lifespan) without any hook in the code. A heavy
module that is not needed to answer requests, such as the migration tool on a database
that is already current, must stay out until something asks for it.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.server import run_server

pytestmark = pytest.mark.e2e

_IMPORTED = re.compile(r"^import time:\s*\d+\s*\|\s*\d+\s*\|\s*(\S+)\s*$", re.MULTILINE)

# Never on the serve path, whatever the backend.
NOT_AT_STARTUP = {
    "alembic": "the migration tool: the database is already at the newest revision",
    "openai": "the OpenAI SDK: only the openai embedder uses it, and it is not configured",
    "httpx": "only the grounding http source uses it, and none is configured",
    "entrypoints.cli.user": "feature CLI commands are loaded only when one is run",
    "entrypoints.cli.chat": "feature CLI commands are loaded only when one is run",
    "entrypoints.cli.search": "feature CLI commands are loaded only when one is run",
    "rich.progress": "progress bars belong to the CLI's reindex and import commands",
    "rich.traceback": "structlog's rich tracebacks: Parley's logs render plain ones",
    "pygments": "syntax colouring for rich tracebacks, which Parley does not render",
    "pytest": "a test dependency",
    "playwright": "a test dependency",
}
# Also out on the embedded default, where there is no Redis queue and no PostgreSQL.
NOT_AT_STARTUP_EMBEDDED = {
    "saq": "the Redis job queue: the embedded default runs jobs in-process",
    "asyncpg": "the PostgreSQL driver: the embedded default uses SQLite",
    "redis": "the Redis client: the embedded default's stores, bus and log are in-process",
    "adapters.redis": "the Redis adapters: wired only when PARLEY_REDIS_URL is set",
}


def imported_modules(log: str) -> set[str]:
    return set(_IMPORTED.findall(log))


def test_a_ready_server_has_not_imported_what_serving_does_not_need(
    backend: Backend, tmp_path: Path
) -> None:
    env = {**backend.env, "PYTHONPROFILEIMPORTTIME": "1"}
    with run_server(env, tmp_path) as server:
        assert httpx.get(f"{server.base_url}/health/ready", timeout=5).status_code == 200
        modules = imported_modules(server.logs())
    assert {"litestar", "sqlalchemy", "entrypoints.http.app"} <= modules, "import log read"
    forbidden = dict(NOT_AT_STARTUP)
    if not backend.uses_redis:
        forbidden |= NOT_AT_STARTUP_EMBEDDED
    loaded = {
        name: why
        for name, why in forbidden.items()
        if any(m == name or m.startswith(f"{name}.") for m in modules)
    }
    assert loaded == {}
