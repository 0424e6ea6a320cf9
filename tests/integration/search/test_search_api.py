"""GET /api/v1/search and /api/v1/search/similar-prompts over HTTP (SPEC shapes, R1, R13)."""

from __future__ import annotations

import asyncio

from tests.support.identity import Account, register

MESSAGE_FIELDS = {
    "id",
    "conversation_id",
    "role",
    "content",
    "status",
    "model",
    "usage",
    "cost_usd",
    "error_code",
    "created_at",
}


async def _chat(client, account: Account, texts: list[str]) -> tuple[str, list[str]]:
    """Send prompts through chat's API (the fake model echoes them); wait until indexed."""
    created = await client.post("/api/v1/conversations", json={}, headers=account.headers)
    assert created.status_code == 201, created.text
    conversation = created.json()["id"]
    prompt_ids = []
    for text in texts:
        sent = await client.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"content": text},
            headers=account.headers,
        )
        assert sent.status_code == 201, sent.text
        prompt_ids.append(sent.json()["user_message"]["id"])
    await _wait_until_indexed(client, account, texts[-1], prompt_ids[-1])
    return conversation, prompt_ids


async def _wait_until_indexed(client, account: Account, text: str, message_id: str) -> None:
    # Indexing happens after the reply, off the request path; the prompts of one
    # conversation are queued in order, so the last one being searchable means all are.
    for _ in range(400):
        response = await client.get(
            "/api/v1/search/similar-prompts",
            params={"q": text, "limit": 100},
            headers=account.headers,
        )
        if message_id in {item["message"]["id"] for item in response.json()["items"]}:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"message {message_id} was never indexed")


async def test_search_returns_spec_shaped_items_of_the_callers_messages(client) -> None:
    alice = await register(client, "search-alice")
    conversation, ids = await _chat(client, alice, ["braising short ribs in red wine"])
    for mode in ("semantic", "text", "hybrid"):
        response = await client.get(
            "/api/v1/search",
            params={"q": "braising short ribs", "mode": mode},
            headers=alice.headers,
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        # the prompt and the fake model's echo of it
        assert {item["message"]["role"] for item in items} == {"user", "assistant"}, mode
        assert ids[0] in [item["message"]["id"] for item in items], mode
        assert set(items[0]) == {"message", "conversation_id", "score"}
        assert set(items[0]["message"]) >= MESSAGE_FIELDS
        assert items[0]["conversation_id"] == conversation
        assert isinstance(items[0]["score"], float)


async def test_another_user_gets_nothing_and_404_for_a_foreign_conversation(client) -> None:
    alice, mallory = await register(client, "search-alice"), await register(client, "mallory")
    conversation, _ = await _chat(client, alice, ["the vault code is hidden in the teapot"])
    response = await client.get(
        "/api/v1/search", params={"q": "vault code teapot"}, headers=mallory.headers
    )
    assert response.status_code == 200
    assert response.json() == {"items": []}
    foreign = await client.get(
        "/api/v1/search",
        params={"q": "vault code", "conversation_id": conversation},
        headers=mallory.headers,
    )
    assert foreign.status_code == 404
    assert foreign.json()["code"] == "CONVERSATION_NOT_FOUND"
    similar = await client.get(
        "/api/v1/search/similar-prompts", params={"q": "vault code teapot"}, headers=mallory.headers
    )
    assert similar.json() == {"items": []}


async def test_similar_prompts_lists_past_prompts_with_cosine_scores(client) -> None:
    bob = await register(client, "search-bob")
    _, prompts = await _chat(
        client, bob, ["tune a ukulele by ear", "ukulele chords for beginners", "file my taxes"]
    )
    response = await client.get(
        "/api/v1/search/similar-prompts", params={"q": "tune a ukulele"}, headers=bob.headers
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["message"]["id"] for item in items[:2]] == prompts[:2]
    assert all(item["message"]["role"] == "user" for item in items)
    assert set(items[0]) == {"message", "score"}
    assert 0 < items[1]["score"] < items[0]["score"] <= 1.0


async def test_limit_defaults_to_five_for_similar_prompts_and_is_capped(client) -> None:
    carol = await register(client, "search-carol")
    await _chat(client, carol, [f"llama fact {i}" for i in range(8)])
    similar = await client.get(
        "/api/v1/search/similar-prompts", params={"q": "llama fact"}, headers=carol.headers
    )
    assert len(similar.json()["items"]) == 5
    capped = await client.get(
        "/api/v1/search", params={"q": "llama fact", "limit": 5000}, headers=carol.headers
    )
    assert capped.status_code == 200
    assert len(capped.json()["items"]) == 16  # 8 prompts and their 8 echoed replies


async def test_bad_parameters_are_validation_problems(client) -> None:
    dave = await register(client, "search-dave")
    for params in ({"q": ""}, {"q": "x", "mode": "fuzzy"}, {"q": "x", "limit": 0}, {}):
        response = await client.get("/api/v1/search", params=params, headers=dave.headers)
        assert response.status_code == 400, params
        assert response.json()["code"] == "VALIDATION_ERROR"


async def test_search_needs_authentication(client) -> None:
    for path in ("/api/v1/search", "/api/v1/search/similar-prompts"):
        assert (await client.get(path, params={"q": "x"})).status_code == 401


async def test_both_endpoints_are_documented_in_openapi(client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "/api/v1/search" in paths
    assert "/api/v1/search/similar-prompts" in paths
    parameters = {p["name"] for p in paths["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "mode", "limit", "conversation_id"} <= parameters


async def test_readiness_reports_the_vector_index(client) -> None:
    body = (await client.get("/health/ready")).json()
    assert body["components"]["vector_index"]["status"] == "ok"


async def test_the_conversation_list_q_uses_full_text_search(client) -> None:
    erin = await register(client, "search-erin")
    conversation, _ = await _chat(client, erin, ["we baked three loaves of rye"])
    await _chat(client, erin, ["nothing to see here"])
    listed = await client.get(
        "/api/v1/conversations", params={"q": "baking loaves"}, headers=erin.headers
    )  # stemmed: "baking" ~ "baked"; not a substring of the message
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [conversation]
