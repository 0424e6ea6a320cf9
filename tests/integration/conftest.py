"""Fixtures shared by the integration modules. Each is module-scoped, so every module that
uses one gets its own mock upstream and its own in-process Parley; a module that needs a
different one defines its own fixture of the same name, which wins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.integration.usage.harness import Harness, harness
from tests.support.backends import Backend
from tests.support.mock_openai import MockUpstream


@pytest.fixture(scope="module")
def mock() -> Iterator[MockUpstream]:
    with MockUpstream.start_thread() as running:
        yield running


@pytest.fixture(scope="module")
async def h(
    backend: Backend,
    mock: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Harness]:
    """Parley with priced models and small plans, over the mock upstream."""
    async with harness(backend, mock, tmp_path_factory.mktemp(request.module.__name__)) as made:
        yield made
