"""An in-process app whose Authenticate accepts one fixed bearer token (identity-agnostic)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from dishka import Provider, Scope, provide
from httpx import AsyncClient

from application.identity.authenticate import Authenticate
from application.identity.principal import Principal
from domain.errors import Unauthenticated
from tests.conftest import make_settings
from tests.support.backends import Backend

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
USER = Principal(user_id=uuid.uuid4(), role="user", plan="free", method="api_key")


class FixedAuthenticate(Authenticate):
    def __init__(self) -> None:
        pass

    async def __call__(self, credential: str | None) -> Principal:
        if credential != TOKEN:
            raise Unauthenticated("missing or invalid credentials")
        return USER


class FixedAuthProvider(Provider):
    @provide(scope=Scope.APP)
    def authenticate(self) -> Authenticate:
        return FixedAuthenticate()


@pytest.fixture(scope="module")
async def gateway(backend: Backend) -> AsyncIterator[AsyncClient]:
    from litestar.testing import AsyncTestClient

    from entrypoints.http.app import create_app

    settings = make_settings(
        backend,
        PARLEY_LLM_MAX_TOKENS="64",
        PARLEY_HTTP_MAX_BODY_BYTES="65536",
        PARLEY_LLM_MAX_REQUEST_MESSAGES="8",
    )
    app = create_app(settings, FixedAuthProvider())
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as http:
        yield http
