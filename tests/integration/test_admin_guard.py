"""The global guard on a route marked ``opt={"admin": True}`` (R3): 401 anonymous, 403 for a
user, 200 for an admin, and a demotion applies at the very next request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from dishka import AsyncContainer
from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.testing import AsyncTestClient

from application.identity.delete_api_key import DeleteApiKey, DeleteApiKeyCommand
from application.identity.principal import Principal
from application.identity.set_active import SetActive, SetActiveCommand
from application.identity.set_role import SetRole, SetRoleCommand
from entrypoints.http import routes
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.identity import Account, bearer, register

KEYS = "/api/v1/api-keys"
ME = "/api/v1/auth/me"


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


# The app under test and the ``container`` fixture are two containers, as two instances
# are: on postgres they share Redis, on sqlite the embedded data directory. Each change
# below is made through the other container while the app has the principal cached.


async def test_a_demotion_applies_at_the_next_request_even_when_the_admin_is_cached(
    http, container: AsyncContainer
) -> None:
    account = await register(http)
    await set_role(container, account, "admin")
    for _ in range(3):
        response = await http.get("/api/v1/test-only/admin", headers=account.headers)
        assert response.status_code == 200
    await set_role(container, account, "user")
    demoted = await http.get("/api/v1/test-only/admin", headers=account.headers)
    assert demoted.status_code == 403


async def test_a_deactivation_applies_at_the_next_request_to_cached_tokens_and_keys(
    http, container: AsyncContainer
) -> None:
    account = await register(http)
    created = await http.post(KEYS, headers=account.headers, json={"name": "k"})
    key_headers = bearer(created.json()["key"])
    for headers in (account.headers, key_headers, account.headers, key_headers):
        assert (await http.get(ME, headers=headers)).status_code == 200
    async with container() as request:
        set_active = await request.get(SetActive)
        await set_active(SetActiveCommand(account.email, is_active=False))
    for headers in (key_headers, account.headers):
        response = await http.get(ME, headers=headers)
        assert response.status_code in {401, 403}, response.text
        assert response.json()["code"] in {"ACCOUNT_DISABLED", "TOKEN_REVOKED"}
    response = await http.get(ME, headers=key_headers)
    assert response.json()["code"] == "ACCOUNT_DISABLED"


async def test_a_deleted_api_key_fails_at_the_next_request_though_it_is_cached(
    http, container: AsyncContainer
) -> None:
    account = await register(http)
    created = (await http.post(KEYS, headers=account.headers, json={"name": "k"})).json()
    key_headers = bearer(created["key"])
    for _ in range(3):
        assert (await http.get(ME, headers=key_headers)).status_code == 200
    owner = Principal(user_id=UUID(account.id), role="user", plan="free", method="jwt")
    async with container() as request:
        delete = await request.get(DeleteApiKey)
        await delete(DeleteApiKeyCommand(owner, UUID(created["id"])))
    response = await http.get(ME, headers=key_headers)
    assert response.status_code == 401
