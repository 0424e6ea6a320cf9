"""The global guard on a route marked ``opt={"admin": True}`` (R3): 401 anonymous, 403 for a
user, 200 for an admin, and a demotion applies at the very next request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dishka import AsyncContainer
from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.testing import AsyncTestClient

from application.identity.principal import Principal
from application.identity.set_role import SetRole, SetRoleCommand
from entrypoints.http import routes
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.identity import Account, register


@get("/api/v1/test-only/admin", opt={"admin": True}, include_in_schema=False)
@inject
async def admin_only(principal: FromDishka[Principal]) -> dict[str, str]:
    return {"user_id": str(principal.user_id)}


@pytest.fixture
async def http(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator:
    production_routes = routes.all_routes
    monkeypatch.setattr(routes, "all_routes", lambda: [*production_routes(), admin_only])
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def set_role(container: AsyncContainer, account: Account, role: str) -> None:
    async with container() as request:
        await (await request.get(SetRole))(SetRoleCommand(account.email, role))


async def test_an_anonymous_caller_gets_401(http) -> None:
    response = await http.get("/api/v1/test-only/admin")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


async def test_a_plain_user_gets_403(http) -> None:
    account = await register(http)
    response = await http.get("/api/v1/test-only/admin", headers=account.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


async def test_promotion_and_demotion_apply_at_the_next_request(
    http, container: AsyncContainer
) -> None:
    account = await register(http)
    await set_role(container, account, "admin")
    promoted = await http.get("/api/v1/test-only/admin", headers=account.headers)
    assert promoted.status_code == 200
    assert promoted.json() == {"user_id": account.id}
    await set_role(container, account, "user")
    demoted = await http.get("/api/v1/test-only/admin", headers=account.headers)
    assert demoted.status_code == 403
