"""/api/v1/notifications on both backends: list, unread filter and count, cursor pages,
mark-read by ids or all, and isolation between users (R1)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient

from application.notifications.notify_user import NotifyUser, NotifyUserCommand
from entrypoints.http.app import create_app
from tests.conftest import make_settings
from tests.integration.chat.support import in_loop_client
from tests.support.backends import Backend
from tests.support.identity import Account, register

API = "/api/v1/notifications"


@pytest.fixture(scope="module")
async def app(backend: Backend) -> Any:
    """The app in the tests' own loop, so they can call its use cases directly."""
    return create_app(make_settings(backend))


@pytest.fixture(scope="module")
async def client(app: Any) -> AsyncIterator[AsyncClient]:
    async with in_loop_client(app) as http:
        yield http


async def notify(app: Any, account: Account, title: str, **data: Any) -> str:
    notify_user = await app.state.dishka_container.get(NotifyUser)
    command = NotifyUserCommand(uuid.UUID(account.id), "job.finished", title, f"{title}!", data)
    return str((await notify_user(command)).id)


async def listing(client: AsyncClient, account: Account, **params: Any) -> dict[str, Any]:
    response = await client.get(API, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def mark(client: AsyncClient, account: Account, body: dict[str, Any]) -> int:
    response = await client.post(f"{API}/mark-read", json=body, headers=account.headers)
    return response.status_code


async def test_the_list_is_newest_first_with_every_field_and_the_unread_count(
    client: AsyncClient, app: Any
) -> None:
    me = await register(client)
    first = await notify(app, me, "first", job_id="j1")
    second = await notify(app, me, "second")
    body = await listing(client, me)
    assert [n["id"] for n in body["items"]] == [second, first]
    assert body["unread_count"] == 2 and body["next_cursor"] is None
    item = body["items"][1]
    assert set(item) == {"id", "kind", "title", "body", "data", "read", "created_at"}
    assert (item["kind"], item["title"], item["body"]) == ("job.finished", "first", "first!")
    assert item["data"] == {"job_id": "j1"} and item["read"] is False


async def test_marked_ids_become_read_and_drop_out_of_the_unread_list(
    client: AsyncClient, app: Any
) -> None:
    me = await register(client)
    ids = [await notify(app, me, f"n{i}") for i in range(3)]
    assert await mark(client, me, {"ids": ids[:2]}) == 204
    unread = await listing(client, me, unread="true")
    assert [n["id"] for n in unread["items"]] == [ids[2]]
    assert unread["unread_count"] == 1
    everything = await listing(client, me)
    assert {n["id"]: n["read"] for n in everything["items"]} == {
        ids[0]: True,
        ids[1]: True,
        ids[2]: False,
    }
    assert await mark(client, me, {"all": True}) == 204
    assert (await listing(client, me))["unread_count"] == 0
    assert (await listing(client, me, unread="true"))["items"] == []


async def test_cursor_pages_cover_every_notification_once(client: AsyncClient, app: Any) -> None:
    me = await register(client)
    ids = [await notify(app, me, f"n{i}") for i in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await listing(client, me, **params)
        assert len(page["items"]) <= 2
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


async def test_another_users_notifications_are_invisible_and_unchangeable(
    client: AsyncClient, app: Any
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    secret = await notify(app, alice, "private")
    assert (await listing(client, bob))["items"] == []
    assert (await listing(client, bob))["unread_count"] == 0
    found = await client.get(f"{API}/{secret}", headers=bob.headers)
    assert found.status_code == 404 and found.json()["code"] == "NOTIFICATION_NOT_FOUND"
    missing = await client.get(f"{API}/{uuid.uuid4()}", headers=bob.headers)
    assert missing.status_code == 404 and missing.json() | {"detail": ""} == found.json() | {
        "detail": "",
        "request_id": missing.json()["request_id"],
        "timestamp": missing.json()["timestamp"],
    }
    assert await mark(client, bob, {"ids": [secret]}) == 204  # ignored, not revealed
    assert await mark(client, bob, {"all": True}) == 204
    mine = await client.get(f"{API}/{secret}", headers=alice.headers)
    assert mine.status_code == 200 and mine.json()["read"] is False
    assert (await listing(client, alice))["unread_count"] == 1


async def test_all_wins_over_ids_and_an_empty_request_changes_nothing(
    client: AsyncClient, app: Any
) -> None:
    me = await register(client)
    ids = [await notify(app, me, f"n{i}") for i in range(2)]
    assert await mark(client, me, {}) == 204
    assert await mark(client, me, {"ids": []}) == 204
    assert (await listing(client, me))["unread_count"] == 2
    assert await mark(client, me, {"ids": ids[:1], "all": True}) == 204
    assert (await listing(client, me))["unread_count"] == 0


async def test_readiness_reports_the_event_bus(client: AsyncClient) -> None:
    ready = (await client.get("/health/ready")).json()
    assert ready["components"]["events"]["status"] == "ok"


async def test_bad_requests_are_validation_problems(client: AsyncClient) -> None:
    me = await register(client)
    for body in ({"ids": ["not-a-uuid"]}, {"all": True, "owner_id": me.id}, {"all": "yes"},
                 {"ids": [str(uuid.uuid4()) for _ in range(101)]}):  # fmt: skip
        response = await client.post(f"{API}/mark-read", json=body, headers=me.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
    bad_cursor = await client.get(API, params={"cursor": "garbage"}, headers=me.headers)
    assert bad_cursor.status_code == 400
    assert (await client.get(API)).status_code == 401
    assert (await client.post(f"{API}/mark-read", json={"all": True})).status_code == 401
