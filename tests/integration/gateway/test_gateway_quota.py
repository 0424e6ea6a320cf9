"""Quotas apply on /v1 exactly as on /api/v1: a used-up quota is a 429 and no upstream call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dishka import Provider, Scope, provide
from httpx import AsyncClient

from application.identity.authenticate import Authenticate
from application.identity.principal import Principal
from entrypoints.settings import load_settings
from tests.integration.gateway.conftest import AUTH, FixedAuthenticate
from tests.support.backends import Backend
from tests.support.mock_openai import MockUpstream

THRIFTY = Principal(user_id=uuid.uuid4(), role="user", plan="thrifty", method="api_key")


class ThriftyAuthenticate(FixedAuthenticate):
    async def __call__(self, credential: str | None) -> Principal:
        await super().__call__(credential)
        return THRIFTY


class ThriftyAuthProvider(Provider):
    @provide(scope=Scope.APP)
    def authenticate(self) -> Authenticate:
        return ThriftyAuthenticate()


@pytest.fixture(scope="module")
async def thrifty(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncClient]:
    from litestar.testing import AsyncTestClient

    from entrypoints.http.app import create_app

    mock.reset()
    toml: Path = tmp_path_factory.mktemp("quota") / "parley.toml"
    toml.write_text(
        '[llm]\nmodel = "metered"\n'
        f'[providers.mock]\nbase_url = "{mock.url}"\n'
        '[[models]]\nid = "metered"\nprovider = "mock"\nupstream_model = "metered-up"\n'
        "[plans.thrifty]\nmonthly_messages = 2\n"
    )
    settings = load_settings(backend.env, toml)
    app = create_app(settings, ThriftyAuthProvider())
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as http:
        yield http


async def test_a_used_up_quota_is_429_insufficient_quota_with_no_upstream_call(
    thrifty: AsyncClient, mock: MockUpstream
) -> None:
    body = {"model": "metered", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(2):
        assert (await thrifty.post("/v1/chat/completions", json=body, headers=AUTH)).is_success
    calls = mock.calls("metered-up")
    refused = await thrifty.post("/v1/chat/completions", json=body, headers=AUTH)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"
    assert int(refused.headers["retry-after"]) >= 1
    streamed = await thrifty.post(
        "/v1/chat/completions", json={**body, "stream": True}, headers=AUTH
    )
    assert streamed.status_code == 429
    assert mock.calls("metered-up") == calls == 2
