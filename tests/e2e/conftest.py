from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from tests.e2e.jobs.support import run_worker
from tests.support.backends import Backend
from tests.support.server import RunningServer, run_server


@pytest.fixture(scope="session")
def server(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real `parley serve` process on this backend (shared by the e2e tests)."""
    log_dir = tmp_path_factory.mktemp(f"server-{backend.name}")
    with run_server(backend.env, log_dir) as running, contextlib.ExitStack() as stack:
        if backend.uses_redis:  # as deployed: API instances enqueue, a worker runs jobs
            stack.enter_context(run_worker(backend.env, log_dir))
        yield running
        leaked = running.leaked_secrets()
    assert not leaked, f"secrets reached the server log (R25): {leaked[:3]}"
