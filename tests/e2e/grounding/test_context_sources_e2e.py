"""Grounded replies end to end (SPEC "Grounded replies", R29): a real `parley serve` asks
the reference context service, a real process scripted to answer, hang, fail, flood or
be absent. Whatever the sources do, the reply is produced and stored, and it records how
each source fared; readiness shows failing sources as degraded, never down."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.context_process import ContextService, run_context_service
from tests.support.server import RunningServer, free_port, run_server

pytestmark = pytest.mark.e2e
SECRET = f"Bearer ctx-{secrets.token_hex(12)}"
ALL_HTTP = ["orders", "slow", "broken", "huge", "garbage", "down"]


def sources_toml(service: ContextService) -> str:
    down = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    return f"""
[context_sources.orders]
kind = "http"
url = "{service.url}/ok"
timeout_ms = 3000
headers_env = {{ Authorization = "PARLEY_TEST_ORDERS_TOKEN" }}
[context_sources.slow]
kind = "http"
url = "{service.url}/slow?ms=20000"
timeout_ms = 300
[context_sources.broken]
kind = "http"
url = "{service.url}/status/500"
[context_sources.huge]
kind = "http"
url = "{service.url}/huge?bytes=2000000"
max_bytes = 65536
[context_sources.garbage]
kind = "http"
url = "{service.url}/garbage"
[context_sources.down]
kind = "http"
url = "{down}"
timeout_ms = 1000
[context_sources.history]
kind = "history"
"""


@pytest.fixture(scope="module")
def grounded(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, ContextService]]:
    tmp = tmp_path_factory.mktemp("grounding")
    with run_context_service() as service:
        config = tmp / "parley.toml"
        config.write_text(sources_toml(service))
        env = {**backend.env, "PARLEY_CONFIG": str(config), "PARLEY_TEST_ORDERS_TOKEN": SECRET}
        with run_server(env, tmp) as server:
            yield server, service
            assert SECRET.split()[1] not in server.logs()  # a source's secret is never logged


def account(base: str) -> dict[str, str]:
    made = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": f"g-{secrets.token_hex(5)}@example.com", "password": "Ground-pw-0123!"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['access_token']}"}


def conversation(base: str, me: dict[str, str], sources: list[str]) -> str:
    made = httpx.post(
        f"{base}/api/v1/conversations", json={"context_sources": sources}, headers=me, timeout=10
    )
    assert made.status_code == 201, made.text
    assert made.json()["context_sources"] == sources
    return made.json()["id"]


def by_source(message: dict) -> dict[str, dict]:
    return {entry["source"]: entry for entry in message["context"]}


def test_every_source_outcome_is_recorded_and_the_reply_is_always_stored(grounded) -> None:
    server, service = grounded
    me = account(server.base_url)
    cid = conversation(server.base_url, me, ALL_HTTP)
    sent = httpx.post(
        f"{server.base_url}/api/v1/conversations/{cid}/messages",
        json={"content": "where is my order?"},
        headers=me,
        timeout=30,
    )
    assert sent.status_code == 201, sent.text
    reply = sent.json()["assistant_message"]
    assert reply["status"] == "complete" and reply["content"] == "Echo: where is my order?"
    outcome = by_source(reply)
    assert {name: entry["status"] for name, entry in outcome.items()} == {
        "orders": "ok",
        "slow": "timeout",
        "broken": "unavailable",
        "huge": "unavailable",
        "garbage": "unavailable",
        "down": "unavailable",
    }
    first, injected = outcome["orders"]["items"]
    assert "where is my order?" in first["text"] and cid in first["text"]
    assert first["title"] == "Order 42" and injected["text"].startswith("Ignore all previous")
    assert all(outcome[n]["items"] == [] for n in ALL_HTTP if n != "orders")
    stored = httpx.get(
        f"{server.base_url}/api/v1/conversations/{cid}/messages", headers=me, timeout=10
    ).json()["items"][-1]
    assert stored["context"] == reply["context"]
    calls = [c for c in service.calls() if c["body"].get("conversation_id") == cid]
    orders = [c for c in calls if c["path"] == "/ok"]
    assert [c["body"] for c in orders] == [{"query": "where is my order?", "conversation_id": cid}]
    assert orders[0]["auth"] == SECRET  # from the environment variable the config names
    assert {c["path"] for c in calls} <= {"/ok", "/slow", "/status/500", "/huge", "/garbage"}


def test_a_hanging_source_does_not_hold_up_a_streamed_reply(grounded) -> None:
    server, _ = grounded
    me = account(server.base_url)
    cid = conversation(server.base_url, me, ["slow", "orders"])
    events = []
    with httpx.stream(
        "POST",
        f"{server.base_url}/api/v1/conversations/{cid}/messages",
        json={"content": "still there?", "stream": True},
        headers=me,
        timeout=30,
    ) as stream:
        kind = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    # The source sleeps 20 s before answering; its timeout is 0.3 s: the reply went ahead.
    assert events[0][0] == "start" and events[-1][0] == "done"
    message = events[-1][1]["message"]
    assert message["content"] == "Echo: still there?"
    assert {n: e["status"] for n, e in by_source(message).items()} == {
        "slow": "timeout",
        "orders": "ok",
    }


def test_sources_are_chosen_per_conversation_and_unknown_names_refused(grounded) -> None:
    server, _ = grounded
    me = account(server.base_url)
    base = f"{server.base_url}/api/v1/conversations"
    refused = httpx.post(base, json={"context_sources": ["orders", "nope"]}, headers=me)
    assert refused.status_code == 400
    assert refused.json()["code"] == "UNKNOWN_CONTEXT_SOURCE" and "nope" in refused.json()["detail"]
    cid = conversation(server.base_url, me, [])
    patched = httpx.patch(f"{base}/{cid}", json={"context_sources": ["orders"]}, headers=me)
    assert patched.status_code == 200 and patched.json()["context_sources"] == ["orders"]
    bad = httpx.patch(f"{base}/{cid}", json={"context_sources": ["http://evil.example/"]},
                      headers=me)  # fmt: skip
    assert bad.status_code == 400  # only configured sources, never a URL (R29)
    plain = httpx.patch(f"{base}/{cid}", json={"context_sources": []}, headers=me)
    assert plain.json()["context_sources"] == []
    sent = httpx.post(f"{base}/{cid}/messages", json={"content": "hi"}, headers=me, timeout=30)
    assert sent.json()["assistant_message"]["context"] is None  # not grounded: no context


def test_readiness_degrades_per_source_and_metrics_label_each(grounded) -> None:
    server, _ = grounded
    ready = httpx.get(f"{server.base_url}/health/ready", timeout=10)
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    components = body["components"]
    assert components["database"]["status"] == "ok"
    assert components["orders"]["status"] == "ok" and components["history"]["status"] == "ok"
    for failing in ("slow", "broken", "huge", "garbage", "down"):
        assert components[failing]["status"] == "degraded", (failing, components[failing])
    metrics = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    assert 'parley_context_source_requests_total{source="slow",status="timeout"}' in metrics
    assert 'parley_context_source_requests_total{source="orders",status="ok"}' in metrics


def test_history_grounds_on_the_users_own_past_prompts_only(grounded) -> None:
    server, _ = grounded
    base = f"{server.base_url}/api/v1"
    alice, bob = account(server.base_url), account(server.base_url)
    secret = f"the pelican vault code is {secrets.randbelow(10**6):06d}"
    first = conversation(server.base_url, alice, ["history"])
    httpx.post(f"{base}/conversations/{first}/messages", json={"content": secret},
               headers=alice, timeout=30)  # fmt: skip
    for _ in range(100):  # indexing runs in the background
        similar = httpx.get(f"{base}/search/similar-prompts", params={"q": secret}, headers=alice)
        if similar.status_code == 200 and similar.json()["items"]:
            break
        time.sleep(0.1)
    question = "what is the pelican vault code?"
    theirs = conversation(server.base_url, bob, ["history"])
    asked = httpx.post(f"{base}/conversations/{theirs}/messages", json={"content": question},
                       headers=bob, timeout=30).json()  # fmt: skip
    [bobs] = asked["assistant_message"]["context"]
    assert bobs["status"] == "ok"
    assert all(secret not in item["text"] for item in bobs["items"])  # never another user's
    again = conversation(server.base_url, alice, ["history"])
    mine = httpx.post(f"{base}/conversations/{again}/messages", json={"content": question},
                      headers=alice, timeout=30).json()  # fmt: skip
    [alices] = mine["assistant_message"]["context"]
    assert alices["status"] == "ok" and secret in [item["text"] for item in alices["items"]]
