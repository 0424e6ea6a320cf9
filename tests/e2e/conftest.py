from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.backends import Backend
from tests.support.server import RunningServer, run_server


@pytest.fixture(scope="session")
def server(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real `parley serve` process on this backend (shared by the e2e tests)."""
    with run_server(backend.env, tmp_path_factory.mktemp(f"server-{backend.name}")) as running:
        yield running
        leaked = running.leaked_secrets()
    assert not leaked, f"secrets reached the server log (R25): {leaked[:3]}"
