"""/api/v1/conversations: CRUD, pagination, filters and isolation, on both backends."""

from __future__ import annotations

import uuid

from tests.integration.chat.support import API, new_conversation, sign_up

CONVERSATION_FIELDS = {
    "id",
    "title",
    "model",
    "system_prompt",
    "archived",
    "message_count",
    "created_at",
    "updated_at",
    "context_sources",
}


async def test_create_read_update_and_delete_a_conversation(client) -> None:
    me = await sign_up(client)
    created = await new_conversation(client, me, title="Trip", system_prompt="Be brief.")
    assert set(created) == CONVERSATION_FIELDS
    assert (created["title"], created["archived"], created["message_count"]) == ("Trip", False, 0)
    assert created["model"] == "parley-fake"
    url = f"{API}/{created['id']}"
    assert (await client.get(url, headers=me)).json() == created
    patched = await client.patch(url, json={"title": "Lisbon", "archived": True}, headers=me)
    assert patched.status_code == 200
    assert (patched.json()["title"], patched.json()["archived"]) == ("Lisbon", True)
    assert patched.json()["system_prompt"] == "Be brief."
    cleared = await client.patch(url, json={"system_prompt": None}, headers=me)
    assert cleared.json()["system_prompt"] is None
    assert (await client.delete(url, headers=me)).status_code == 204
    assert (await client.get(url, headers=me)).json()["code"] == "CONVERSATION_NOT_FOUND"


async def test_owner_and_counts_in_the_body_are_ignored(client) -> None:
    me = await sign_up(client)
    other = str(uuid.uuid4())
    created = await new_conversation(client, me, owner_id=other, message_count=99, id=other)
    assert created["id"] != other and created["message_count"] == 0


async def test_deleting_a_conversation_deletes_its_messages(client) -> None:
    me = await sign_up(client)
    conversation = await new_conversation(client, me)
    url = f"{API}/{conversation['id']}"
    sent = await client.post(f"{url}/messages", json={"content": "hello"}, headers=me)
    assert sent.status_code == 201
    assert (await client.delete(url, headers=me)).status_code == 204
    listed = await client.get(f"{url}/messages", headers=me)
    assert listed.status_code == 404


async def test_conversations_are_listed_newest_activity_first_across_pages(client) -> None:
    me = await sign_up(client)
    ids = [(await new_conversation(client, me, title=f"c{i}"))["id"] for i in range(12)]
    # Activity moves the oldest conversation to the top.
    await client.post(f"{API}/{ids[0]}/messages", json={"content": "bump"}, headers=me)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(API, params=params, headers=me)).json()
        assert len(page["items"]) <= 5
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[0], *reversed(ids[1:])]


async def test_limit_is_capped_at_100(client) -> None:
    me = await sign_up(client)
    for i in range(101):
        await new_conversation(client, me, title=f"n{i}")
    page = (await client.get(API, params={"limit": 1000}, headers=me)).json()
    assert len(page["items"]) == 100 and page["next_cursor"] is not None
    assert len((await client.get(API, headers=me)).json()["items"]) == 20


async def test_q_matches_titles_and_messages_case_insensitively(client) -> None:
    me = await sign_up(client)
    by_title = await new_conversation(client, me, title="Sourdough STARTER")
    by_message = await new_conversation(client, me, title="Misc")
    await new_conversation(client, me, title="Unrelated")
    await client.post(
        f"{API}/{by_message['id']}/messages", json={"content": "my starter died"}, headers=me
    )
    found = (await client.get(API, params={"q": "starter"}, headers=me)).json()["items"]
    assert {c["id"] for c in found} == {by_title["id"], by_message["id"]}
    wildcard = (await client.get(API, params={"q": "%"}, headers=me)).json()["items"]
    assert wildcard == []


async def test_archived_filter(client) -> None:
    me = await sign_up(client)
    kept = await new_conversation(client, me)
    archived = await new_conversation(client, me)
    await client.patch(f"{API}/{archived['id']}", json={"archived": True}, headers=me)
    only_archived = (await client.get(API, params={"archived": "true"}, headers=me)).json()
    active = (await client.get(API, params={"archived": "false"}, headers=me)).json()
    assert [c["id"] for c in only_archived["items"]] == [archived["id"]]
    assert [c["id"] for c in active["items"]] == [kept["id"]]


async def test_a_forged_cursor_is_a_400(client) -> None:
    me = await sign_up(client)
    response = await client.get(API, params={"cursor": "not-a-cursor"}, headers=me)
    assert response.status_code == 400 and response.json()["code"] == "INVALID_CURSOR"


async def test_messages_are_listed_oldest_first_across_pages(client) -> None:
    me = await sign_up(client)
    conversation = await new_conversation(client, me)
    url = f"{API}/{conversation['id']}/messages"
    for text in ("one", "two", "three"):
        assert (await client.post(url, json={"content": text}, headers=me)).status_code == 201
    first = (await client.get(url, params={"limit": 4}, headers=me)).json()
    rest = (await client.get(url, params={"cursor": first["next_cursor"]}, headers=me)).json()
    messages = first["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert [m["content"] for m in messages[::2]] == ["one", "two", "three"]
    assert all(m["status"] == "complete" for m in messages)
    counted = (await client.get(f"{API}/{conversation['id']}", headers=me)).json()
    assert counted["message_count"] == 6


async def test_an_unknown_model_or_a_blank_title_is_refused(client) -> None:
    me = await sign_up(client)
    unknown = await client.post(API, json={"model": "gpt-nope"}, headers=me)
    blank = await client.post(API, json={"title": "   "}, headers=me)
    assert unknown.status_code == 404 and unknown.json()["code"] == "MODEL_NOT_FOUND"
    assert blank.status_code == 400 and blank.json()["code"] == "INVALID_TITLE"


async def test_another_user_gets_404_for_everything_of_mine(client) -> None:
    alice, bob = await sign_up(client), await sign_up(client)
    conversation = await new_conversation(client, alice, title="secret")
    url = f"{API}/{conversation['id']}"
    sent = await client.post(f"{url}/messages", json={"content": "hi"}, headers=alice)
    generation = sent.json()["generation_id"]
    attempts = [
        await client.get(url, headers=bob),
        await client.patch(url, json={"title": "mine now"}, headers=bob),
        await client.delete(url, headers=bob),
        await client.get(f"{url}/messages", headers=bob),
        await client.post(f"{url}/messages", json={"content": "x"}, headers=bob),
        await client.get(f"{url}/generations/{generation}/events", headers=bob),
        await client.post(f"{url}/generations/{generation}/cancel", headers=bob),
    ]
    assert [r.status_code for r in attempts] == [404] * 7
    assert "secret" not in str([r.text for r in attempts])
    assert (await client.get(API, headers=bob)).json()["items"] == []
    assert (await client.get(url, headers=alice)).json()["title"] == "secret"


async def test_chat_routes_need_authentication(client) -> None:
    assert (await client.get(API)).status_code == 401
    assert (await client.post(API, json={})).status_code == 401
