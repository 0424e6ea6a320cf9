"""/api/v1/api-keys over HTTP on both backends: shown once, stored hashed, owner-only."""

from __future__ import annotations

from typing import Any

from dishka import AsyncContainer

from application.identity.set_active import SetActive, SetActiveCommand
from tests.support.identity import Account, bearer, register

KEYS = "/api/v1/api-keys"
ME = "/api/v1/auth/me"


async def create_key(client, account: Account, name: str = "ci", **extra: Any) -> dict[str, Any]:
    response = await client.post(KEYS, headers=account.headers, json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def test_creating_a_key_shows_the_secret_once_with_documented_fields(client) -> None:
    account = await register(client)
    created = await create_key(client, account, "laptop")
    assert set(created) == {"id", "name", "prefix", "key", "created_at"}
    assert created["key"].startswith("pk_") and len(created["key"]) >= 3 + 32
    assert created["key"].startswith(created["prefix"]) and created["prefix"] != created["key"]
    listed = (await client.get(KEYS, headers=account.headers)).json()
    assert set(listed) == {"items", "next_cursor"}
    assert [set(item) for item in listed["items"]] == [{"id", "name", "prefix", "created_at"}]
    assert created["key"] not in str(listed)


async def test_an_api_key_works_as_a_bearer_credential_for_its_owner(client) -> None:
    account = await register(client)
    created = await create_key(client, account)
    response = await client.get(ME, headers=bearer(created["key"]))
    assert response.status_code == 200
    assert response.json()["id"] == account.id


async def test_owner_sent_in_the_body_has_no_effect(client) -> None:
    owner = await register(client)
    victim = await register(client)
    created = await create_key(client, owner, user_id=victim.id, owner=victim.id, id="x")
    me = await client.get(ME, headers=bearer(created["key"]))
    assert me.json()["id"] == owner.id
    assert (await client.get(KEYS, headers=victim.headers)).json()["items"] == []


async def test_another_user_gets_404_deleting_my_key_and_never_sees_it(client) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    key = await create_key(client, alice)
    response = await client.delete(f"{KEYS}/{key['id']}", headers=bob.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "API_KEY_NOT_FOUND"
    assert (await client.get(KEYS, headers=bob.headers)).json()["items"] == []
    assert (await client.get(ME, headers=bearer(key["key"]))).status_code == 200


async def test_a_deleted_key_stops_working_at_once(client) -> None:
    account = await register(client)
    key = await create_key(client, account)
    assert (await client.delete(f"{KEYS}/{key['id']}", headers=account.headers)).status_code == 204
    response = await client.get(ME, headers=bearer(key["key"]))
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_INVALID"
    again = await client.delete(f"{KEYS}/{key['id']}", headers=account.headers)
    assert again.status_code == 404


async def test_an_unknown_key_is_401(client) -> None:
    response = await client.get(ME, headers=bearer("pk_" + "A" * 43))
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_INVALID"


async def test_keys_page_with_an_opaque_cursor_and_a_capped_limit(client) -> None:
    account = await register(client)
    names = ["k1", "k2", "k3"]
    for name in names:
        await create_key(client, account, name)
    first = (await client.get(KEYS, headers=account.headers, params={"limit": 2})).json()
    second = (
        await client.get(
            KEYS, headers=account.headers, params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [k["name"] for k in first["items"] + second["items"]] == names
    assert second["next_cursor"] is None
    capped = await client.get(KEYS, headers=account.headers, params={"limit": 100000})
    assert capped.status_code == 200 and len(capped.json()["items"]) == 3


async def test_a_malformed_cursor_is_a_400(client) -> None:
    account = await register(client)
    response = await client.get(KEYS, headers=account.headers, params={"cursor": "!!nope"})
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_an_empty_or_huge_name_is_a_validation_error(client) -> None:
    account = await register(client)
    for name in ("", "n" * 101):
        response = await client.post(KEYS, headers=account.headers, json={"name": name})
        assert response.status_code == 400
        assert response.json()["code"] == "VALIDATION_ERROR"


async def test_api_keys_need_authentication(client) -> None:
    assert (await client.get(KEYS)).status_code == 401
    assert (await client.post(KEYS, json={"name": "x"})).status_code == 401


async def test_a_disabled_users_keys_are_refused(client, container: AsyncContainer) -> None:
    account = await register(client)
    key = await create_key(client, account)
    async with container() as request:
        await (await request.get(SetActive))(SetActiveCommand(account.email, is_active=False))
    response = await client.get(ME, headers=bearer(key["key"]))
    assert response.status_code == 401
    assert response.json()["code"] == "ACCOUNT_DISABLED"
