"""An in-process Parley with a mock OpenAI upstream (so upstream calls can be counted),
priced models and small plans; plus helpers that act as the operator (no principal)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from dishka import AsyncContainer
from httpx import AsyncClient
from litestar.testing import AsyncTestClient

from application.identity.set_plan import SetPlan, SetPlanCommand
from application.identity.set_role import SetRole, SetRoleCommand
from entrypoints.http.app import create_app
from entrypoints.ioc import create_container
from entrypoints.settings import Settings, load_settings
from tests.support.backends import Backend
from tests.support.identity import Account, bearer
from tests.support.mock_openai import MockUpstream

TOML = """
[llm]
model = "metered"
[providers.mock]
base_url = "{url}"
[[models]]
id = "metered"
provider = "mock"
upstream_model = "{upstream}"
input_price_per_million = 2.0
output_price_per_million = 6.0
[[models]]
id = "premium"
provider = "mock"
upstream_model = "{upstream}-premium"
[plans.tiny]
monthly_messages = 2
[plans.streamer]
concurrent_streams = 1
[plans.cheap_only]
allowed_models = ["metered"]
"""


@dataclass
class Harness:
    http: AsyncClient
    operator: AsyncContainer
    mock: MockUpstream
    upstream: str
    settings: Settings

    def upstream_calls(self) -> int:
        return self.mock.calls(self.upstream) + self.mock.calls(f"{self.upstream}-premium")

    async def set_plan(self, account: Account, plan: str) -> None:
        async with self.operator() as request:
            await (await request.get(SetPlan))(SetPlanCommand(account.email, plan))

    async def set_role(self, account: Account, role: str) -> None:
        async with self.operator() as request:
            await (await request.get(SetRole))(SetRoleCommand(account.email, role))

    async def api_key(self, account: Account) -> dict[str, str]:
        created = await self.http.post(
            "/api/v1/api-keys", json={"name": "k"}, headers=account.headers
        )
        assert created.status_code == 201, created.text
        return bearer(created.json()["key"])


def usage_settings(backend: Backend, mock: MockUpstream, tmp: Path, **env: str) -> Settings:
    upstream = f"up-{uuid.uuid4().hex[:8]}"
    toml = tmp / f"parley-{upstream}.toml"
    toml.write_text(TOML.format(url=mock.url, upstream=upstream))
    environ = {**backend.env, **env}
    return load_settings(environ, toml)


@asynccontextmanager
async def harness(
    backend: Backend, mock: MockUpstream, tmp: Path, **env: str
) -> AsyncIterator[Harness]:
    settings = usage_settings(backend, mock, tmp, **env)
    upstream = settings.models[0].upstream_model
    operator = create_container(settings)
    try:
        async with AsyncTestClient(
            app=create_app(settings), base_url="http://testserver.local"
        ) as http:
            yield Harness(http, operator, mock, upstream, settings)
    finally:
        await operator.close()


def chat(content: str = "hello", **extra: object) -> dict[str, object]:
    return {"model": "metered", "messages": [{"role": "user", "content": content}], **extra}
