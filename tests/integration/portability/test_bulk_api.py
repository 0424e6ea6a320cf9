"""POST /api/v1/conversations/bulk: per-id results; other users' ids are not_found (R1)."""

from __future__ import annotations

import uuid

from tests.integration.portability.support import API
from tests.support.identity import register

BULK = f"{API}/bulk"


async def _conversations(client, headers, n: int) -> list[str]:
    return [
        (await client.post(API, json={"title": f"c{i}"}, headers=headers)).json()["id"]
        for i in range(n)
    ]


async def test_archive_unarchive_and_delete_with_a_result_per_id(client) -> None:
    me = await register(client, "bulk")
    ids = await _conversations(client, me.headers, 3)
    missing = str(uuid.uuid4())

    archived = await client.post(
        BULK, json={"action": "archive", "ids": [ids[0], missing, ids[1]]}, headers=me.headers
    )
    assert archived.status_code == 200
    assert archived.json() == {
        "items": [
            {"id": ids[0], "status": "ok"},
            {"id": missing, "status": "not_found"},
            {"id": ids[1], "status": "ok"},
        ]
    }
    listed = (await client.get(API, params={"archived": "true"}, headers=me.headers)).json()
    assert {c["id"] for c in listed["items"]} == {ids[0], ids[1]}

    await client.post(BULK, json={"action": "unarchive", "ids": [ids[0]]}, headers=me.headers)
    assert (await client.get(f"{API}/{ids[0]}", headers=me.headers)).json()["archived"] is False

    deleted = await client.post(BULK, json={"action": "delete", "ids": ids[:2]}, headers=me.headers)
    assert [i["status"] for i in deleted.json()["items"]] == ["ok", "ok"]
    assert (await client.get(f"{API}/{ids[0]}", headers=me.headers)).status_code == 404
    assert (await client.get(f"{API}/{ids[2]}", headers=me.headers)).status_code == 200


async def test_another_users_conversations_are_not_found_and_untouched(client) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    (theirs,) = await _conversations(client, alice.headers, 1)
    for action in ("delete", "archive"):
        response = await client.post(
            BULK, json={"action": action, "ids": [theirs]}, headers=bob.headers
        )
        assert response.json() == {"items": [{"id": theirs, "status": "not_found"}]}
    still = (await client.get(f"{API}/{theirs}", headers=alice.headers)).json()
    assert still["archived"] is False


async def test_more_than_100_ids_or_an_unknown_action_is_a_validation_error(client) -> None:
    me = await register(client, "bulk")
    too_many = [str(uuid.uuid4()) for _ in range(101)]
    for body in (
        {"action": "delete", "ids": too_many},
        {"action": "explode", "ids": [str(uuid.uuid4())]},
        {"action": "delete", "ids": []},
        {"action": "delete", "ids": ["not-a-uuid"]},
    ):
        response = await client.post(BULK, json=body, headers=me.headers)
        assert response.status_code == 400, body
        assert response.json()["code"] == "VALIDATION_ERROR"
    assert (
        await client.post(BULK, json={"action": "delete", "ids": too_many[:1]})
    ).status_code == 401
