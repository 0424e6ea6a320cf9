"""GET /metrics: Prometheus text that a Prometheus parser reads, labelled by route
templates (bounded cardinality), optionally behind a token."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.usage.harness import Harness, chat, harness
from tests.support.backends import Backend
from tests.support.identity import register
from tests.support.mock_openai import Fault, MockUpstream

TOKEN = "scrape-secret-0123456789"


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> [(labels, value)], through the official parser."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return sum(
        v for lab, v in found.get(name, []) if all(lab.get(k) == x for k, x in labels.items())
    )


async def scrape(h: Harness) -> dict:
    response = await h.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


async def test_requests_are_counted_by_route_template_never_by_raw_path(h: Harness) -> None:
    me = await register(h.http)
    for suffix in ("01a20b8a-94af-7d11-9d07-adda3959660b", "01a20b8a-94af-7d11-9d07-adda3959660c"):
        await h.http.get(f"/api/v1/conversations/{suffix}", headers=me.headers)
    for junk in ("/no/such/a", "/no/such/b"):
        await h.http.get(junk)
    found = await scrape(h)
    routes = {lab["route"] for lab, _ in found["parley_http_requests_total"]}
    assert "/api/v1/conversations/{conversation_id}" in routes
    assert "<unmatched>" in routes
    assert not any("01a20b8a" in r or "/no/such" in r for r in routes)
    conversation = "/api/v1/conversations/{conversation_id}"
    assert value(found, "parley_http_requests_total", route=conversation, status="404") >= 2
    assert value(found, "parley_http_request_duration_seconds_count", route=conversation) >= 2


async def test_tokens_cost_and_provider_calls_are_reported_per_model(h: Harness) -> None:
    me = await register(h.http)
    key = await h.api_key(me)
    before = await scrape(h)
    reply = await h.http.post("/v1/chat/completions", json=chat(), headers=key)
    usage = reply.json()["usage"]
    h.mock.script(h.upstream, [Fault(status=400)])
    assert (await h.http.post("/v1/chat/completions", json=chat(), headers=key)).status_code == 400
    after = await scrape(h)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("parley_tokens_total", model="metered", kind="prompt") == usage["prompt_tokens"]
    assert (
        delta("parley_tokens_total", model="metered", kind="completion")
        == usage["completion_tokens"]
    )
    assert delta("parley_cost_usd_total", model="metered") > 0
    calls = delta("parley_provider_request_duration_seconds_count", provider="mock")
    assert calls == 2
    assert delta("parley_provider_errors_total", provider="mock") == 1
    states = {lab["provider"]: v for lab, v in after["parley_provider_circuit_state"]}
    assert states.get("mock") == 0  # closed
    assert "parley_active_streams" in after and "parley_websocket_connections" in after


async def test_quota_rejections_are_counted_by_reason(h: Harness) -> None:
    me = await register(h.http)
    await h.set_plan(me, "tiny")
    key = await h.api_key(me)
    before = await scrape(h)
    for _ in range(3):
        await h.http.post("/v1/chat/completions", json=chat(), headers=key)
    after = await scrape(h)
    name = "parley_quota_rejections_total"
    assert value(after, name, reason="messages") - value(before, name, reason="messages") == 1


async def test_rate_limit_rejections_are_counted_by_route_group(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("metrics-rate")
    async with harness(backend, mock, tmp, PARLEY_LIMITS_CHAT_PER_MINUTE="2") as limited:
        me = await register(limited.http)
        statuses = [
            (
                await limited.http.post("/v1/chat/completions", json=chat(), headers=me.headers)
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        found = samples((await limited.http.get("/metrics")).text)
        assert value(found, "parley_rate_limit_rejections_total", group="chat") == 1


async def test_metrics_need_the_token_when_one_is_configured(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("metrics-token")
    async with harness(backend, mock, tmp, PARLEY_METRICS_TOKEN=TOKEN) as guarded:
        assert (await guarded.http.get("/metrics")).status_code == 401
        wrong = await guarded.http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await guarded.http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200 and "parley_http_requests_total" in right.text


async def test_metrics_can_be_switched_off(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("metrics-off")
    async with harness(backend, mock, tmp, PARLEY_METRICS_ENABLED="false") as off:
        assert (await off.http.get("/metrics")).status_code == 404
