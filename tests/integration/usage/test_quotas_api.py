"""Plans and quotas over HTTP (R14): chat turns and /v1 completions reserve before calling
the model, so a used-up quota is a 429 with zero upstream calls, on both backends.

The in-process test client runs requests one at a time; concurrency (2N requests against
N left, the stream cap) is tested against real server processes in tests/e2e/usage."""

from __future__ import annotations

import pytest

from tests.integration.usage.harness import Harness, chat
from tests.support.identity import register

CONVERSATIONS = "/api/v1/conversations"


async def test_a_quota_used_up_mid_conversation_stores_nothing_and_calls_no_model(
    h: Harness,
) -> None:
    me = await register(h.http)
    await h.set_plan(me, "tiny")
    created = await h.http.post(CONVERSATIONS, json={}, headers=me.headers)
    url = f"{CONVERSATIONS}/{created.json()['id']}/messages"
    for turn in ("first", "second"):
        sent = await h.http.post(url, json={"content": turn}, headers=me.headers)
        assert sent.status_code == 201, sent.text
    calls = h.upstream_calls()
    refused = await h.http.post(url, json={"content": "third"}, headers=me.headers)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "QUOTA_EXCEEDED" and body["details"]["quota"] == "messages"
    assert int(refused.headers["retry-after"]) >= 1
    streamed = await h.http.post(url, json={"content": "third", "stream": True}, headers=me.headers)
    assert streamed.status_code == 429
    assert h.upstream_calls() == calls
    stored = (await h.http.get(url, headers=me.headers)).json()["items"]
    assert [m["content"] for m in stored if m["role"] == "user"] == ["first", "second"]


async def test_chat_turns_and_v1_completions_share_one_quota(h: Harness) -> None:
    me = await register(h.http)
    await h.set_plan(me, "tiny")
    key = await h.api_key(me)
    assert (await h.http.post("/v1/chat/completions", json=chat(), headers=key)).is_success
    created = await h.http.post(CONVERSATIONS, json={}, headers=me.headers)
    url = f"{CONVERSATIONS}/{created.json()['id']}/messages"
    assert (await h.http.post(url, json={"content": "hi"}, headers=me.headers)).is_success
    refused = await h.http.post("/v1/chat/completions", json=chat(), headers=key)
    assert refused.status_code == 429


async def test_a_model_outside_the_plan_is_forbidden_before_any_upstream_call(
    h: Harness,
) -> None:
    me = await register(h.http)
    await h.set_plan(me, "cheap_only")
    calls = h.upstream_calls()
    created = await h.http.post(CONVERSATIONS, json={"model": "premium"}, headers=me.headers)
    url = f"{CONVERSATIONS}/{created.json()['id']}/messages"
    refused = await h.http.post(url, json={"content": "hi"}, headers=me.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "MODEL_NOT_IN_PLAN"
    assert h.upstream_calls() == calls


async def test_usage_reports_tokens_messages_and_cost_per_day_and_model(h: Harness) -> None:
    me = await register(h.http)
    key = await h.api_key(me)
    for _ in range(2):
        reply = await h.http.post("/v1/chat/completions", json=chat("hello there"), headers=key)
        assert reply.status_code == 200
    usage = reply.json()["usage"]
    report = await h.http.get("/api/v1/me/usage?period=7d", headers=me.headers)
    assert report.status_code == 200
    body = report.json()
    prompt, completion = 2 * usage["prompt_tokens"], 2 * usage["completion_tokens"]
    cost = (prompt * 2 + completion * 6) / 1_000_000
    assert body["totals"]["messages"] == 2
    assert (body["totals"]["prompt_tokens"], body["totals"]["completion_tokens"]) == (
        prompt,
        completion,
    )
    assert float(body["totals"]["cost_usd"]) == pytest.approx(cost)
    assert len(body["days"]) == 7 and body["days"][-1]["messages"] == 2
    assert [m["model"] for m in body["models"]] == ["metered"]
    assert [k["messages"] for k in body["api_keys"] if k["api_key_id"]] == [2]


async def test_the_dashboard_shows_the_plan_and_what_is_left_this_month(h: Harness) -> None:
    me = await register(h.http)
    await h.set_plan(me, "tiny")
    key = await h.api_key(me)
    assert (await h.http.post("/v1/chat/completions", json=chat(), headers=key)).is_success
    board = (await h.http.get("/api/v1/me/dashboard", headers=me.headers)).json()
    assert board["user"]["id"] == me.id and board["plan"]["name"] == "tiny"
    assert board["plan"]["monthly_messages"] == 2 and board["plan"]["monthly_tokens"] is None
    assert board["usage"]["messages"] == 1 and board["usage"]["period"] == "month"
    assert board["remaining"] == {"tokens": None, "messages": 1, "jobs": None}
    assert board["counts"]["api_keys"] == 1


async def test_an_unknown_period_is_a_validation_error(h: Harness) -> None:
    me = await register(h.http)
    response = await h.http.get("/api/v1/me/usage?period=year", headers=me.headers)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


async def test_usage_is_private_to_the_caller(h: Harness) -> None:
    spender, other = await register(h.http), await register(h.http)
    key = await h.api_key(spender)
    assert (await h.http.post("/v1/chat/completions", json=chat(), headers=key)).is_success
    seen = (await h.http.get("/api/v1/me/usage", headers=other.headers)).json()
    assert seen["totals"]["messages"] == 0 and seen["models"] == []
