"""Health history storage on both backends (one claim per slot, even when contended) and
GET /api/v1/admin/health-history (role admin). Across real instances: tests/e2e."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

from application.ports.health_history import HealthHistoryStore
from domain.health_history import HealthCheck
from tests.integration.usage.harness import Harness
from tests.support.identity import register

URL = "/api/v1/admin/health-history"


def far_slot() -> datetime:
    """A slot no other test (nor a running loop) uses: the session shares one database."""
    return datetime(2090, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(10**6))


async def test_exactly_one_of_many_concurrent_claims_takes_a_slot(h: Harness) -> None:
    store = await h.operator.get(HealthHistoryStore)
    slot = far_slot()
    won = await asyncio.gather(*(store.claim(slot, f"i{n}") for n in range(8)))
    assert sorted(won) == [False] * 7 + [True]
    assert not await store.claim(slot, "late")
    assert await store.claim(slot + timedelta(minutes=1), "late")


async def test_checks_are_read_back_in_order_and_pruned_by_age(h: Harness) -> None:
    store = await h.operator.get(HealthHistoryStore)
    slot, name = far_slot(), f"probe-{uuid.uuid4().hex[:6]}"
    await store.record(
        [
            HealthCheck(slot + timedelta(minutes=1), name, "down", 3.5, "x" * 900),
            HealthCheck(slot, name, "ok", 1.25),
        ]
    )
    rows = [r for r in await store.since(slot) if r.component == name]
    assert [(r.at, r.status, r.latency_ms) for r in rows] == [
        (slot, "ok", 1.25),
        (slot + timedelta(minutes=1), "down", 3.5),
    ]
    assert rows[1].detail == "x" * 500  # bounded
    assert await store.prune(slot + timedelta(seconds=30)) >= 1
    assert [r.at for r in await store.since(slot) if r.component == name] == [rows[1].at]


async def test_admins_get_uptime_latency_and_incidents_per_component(h: Harness) -> None:
    store = await h.operator.get(HealthHistoryStore)
    name = f"probe-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(microsecond=0)
    statuses = ["ok", "down", "down", "ok"]
    await store.record(
        [
            HealthCheck(now - timedelta(minutes=4 - i), name, s, float(i), "refused")
            for i, s in enumerate(statuses)
        ]
        + [HealthCheck(now - timedelta(days=3), name, "down", 1.0)]  # outside 24h
    )
    anonymous = await h.http.get(URL)
    user = await register(h.http)
    assert anonymous.status_code == 401
    assert (await h.http.get(URL, headers=user.headers)).status_code == 403
    boss = await register(h.http, "admin")
    await h.set_role(boss, "admin")
    day = await h.http.get(URL, headers=boss.headers)
    assert day.status_code == 200, day.text
    mine = day.json()["components"][name]
    assert {k: mine[k] for k in ("checks", "failures", "uptime_ratio", "p50_latency_ms")} == {
        "checks": 4,
        "failures": 2,
        "uptime_ratio": 0.5,
        "p50_latency_ms": 1.5,
    }
    [incident] = mine["incidents"]
    assert incident["detail"] == "down: refused"
    assert datetime.fromisoformat(incident["started_at"]) == now - timedelta(minutes=3)
    assert datetime.fromisoformat(incident["ended_at"]) == now - timedelta(minutes=1)
    week = (await h.http.get(f"{URL}?period=7d", headers=boss.headers)).json()
    assert week["components"][name]["checks"] == 5
    older, _ = week["components"][name]["incidents"]  # three days ago, until the next ok
    assert datetime.fromisoformat(older["ended_at"]) == now - timedelta(minutes=4)
    bad = await h.http.get(f"{URL}?period=1y", headers=boss.headers)
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
