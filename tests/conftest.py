"""Shared fixtures. Every storage-touching test runs on both backends:
``sqlite`` (embedded default, in-process adapters) and ``postgres`` (PostgreSQL + Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from dishka import AsyncContainer
from httpx import AsyncClient

from entrypoints.settings import Settings, load_settings
from tests.support.backends import Backend, postgres_backend, sqlite_backend

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    tmp = tmp_path_factory.mktemp(request.param)
    made = sqlite_backend(tmp) if request.param == "sqlite" else postgres_backend(tmp)
    yield made
    for fn in made.cleanup:
        fn()


def make_settings(backend: Backend, **overrides: str) -> Settings:
    return load_settings({**backend.env, **overrides}, toml_path=Path("/nonexistent.toml"))


@pytest.fixture(scope="session")
def settings(backend: Backend) -> Settings:
    return make_settings(backend)


@pytest.fixture(scope="session")
async def container(settings: Settings) -> AsyncIterator[AsyncContainer]:
    from entrypoints.ioc import create_container

    made = create_container(settings)
    yield made
    await made.close()


@pytest.fixture(scope="session")
async def app(settings: Settings):
    from entrypoints.http.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator[AsyncClient]:
    """An httpx client bound to the ASGI app in-process, lifespan included."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=app, base_url="http://testserver.local") as http:
        yield http
