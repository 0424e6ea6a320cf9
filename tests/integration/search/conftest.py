"""A search container per test module on each backend, with its own index file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dishka import AsyncContainer

from entrypoints.ioc import create_container
from tests.integration.search.seeding import settings_with_data_dir
from tests.support.backends import Backend


@pytest.fixture(scope="module")
async def search_container(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncContainer]:
    settings = settings_with_data_dir(backend, tmp_path_factory.mktemp("search"))
    container = create_container(settings)
    yield container
    await container.close()
