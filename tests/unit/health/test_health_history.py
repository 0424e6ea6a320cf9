"""Health history: one check per slot over every instance, summaries with incidents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from application.health.history import GetHealthHistory, RecordHealthCheck, slot_of
from application.health.readiness import CheckReadiness, ComponentHealth, HealthProbe
from application.identity.principal import Principal
from application.ports.health_history import HealthHistoryStore
from domain.errors import Forbidden, InvalidInput
from domain.health_history import HealthCheck, summarize
from tests.unit.usage.fakes import FixedClock

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class SharedStore(HealthHistoryStore):
    """What two instances share: the claims and the rows."""

    def __init__(self) -> None:
        self.claims: dict[datetime, str] = {}
        self.rows: list[HealthCheck] = []

    async def claim(self, slot_at: datetime, instance: str) -> bool:
        return self.claims.setdefault(slot_at, instance) == instance

    async def record(self, checks: Sequence[HealthCheck]) -> None:
        self.rows.extend(checks)

    async def prune(self, before: datetime) -> int:
        kept = [r for r in self.rows if r.at >= before]
        gone, self.rows = len(self.rows) - len(kept), kept
        return gone

    async def since(self, start: datetime) -> list[HealthCheck]:
        return [r for r in self.rows if r.at >= start]


class ScriptedProbe(HealthProbe):
    def __init__(self, name: str, statuses: list[str]) -> None:
        self.name, self.critical, self._statuses = name, False, statuses
        self.calls = 0

    async def check(self) -> ComponentHealth:
        self.calls += 1
        status = self._statuses.pop(0) if self._statuses else "ok"
        return ComponentHealth(status, 2.0, None if status == "ok" else "refused")  # type: ignore[arg-type]


def check(minute: int, status: str, latency: float = 1.0, detail: str | None = None):
    return HealthCheck(T0 + timedelta(minutes=minute), "database", status, latency, detail)


def test_an_incident_runs_from_the_first_failure_to_the_next_ok_check() -> None:
    rows = [
        check(0, "ok", 1),
        check(1, "down", 9, "unreachable"),
        check(2, "down", 9, "timed out"),
        check(3, "ok", 2),
        check(4, "degraded", 5),
    ]
    history = summarize(reversed(rows))["database"]
    assert (history.checks, history.failures, history.uptime_ratio) == (5, 3, 0.4)
    assert history.p50_latency_ms == 5
    first, second = history.incidents
    assert (first.started_at, first.ended_at, first.detail) == (
        rows[1].at,
        rows[3].at,
        "down: unreachable",
    )
    assert (second.started_at, second.ended_at, second.detail) == (rows[4].at, None, "degraded")


async def test_two_instances_record_each_slot_once_and_old_checks_are_dropped() -> None:
    store, clock = SharedStore(), FixedClock(T0 + timedelta(seconds=1))
    probes = [ScriptedProbe("database", ["ok", "down"]), ScriptedProbe("llm", [])]
    readiness = CheckReadiness(probes)  # type: ignore[arg-type]
    first = RecordHealthCheck(store, readiness, clock, 60, retention=timedelta(minutes=3))
    second = RecordHealthCheck(store, readiness, clock, 60, retention=timedelta(minutes=3))
    assert [await first(), await second()] == [True, False]
    clock.current += timedelta(seconds=61)
    assert [await second(), await first()] == [True, False]
    assert probes[0].calls == 2  # the losing instance does not check at all
    assert sorted((r.at, r.component, r.status) for r in store.rows) == [
        (T0, "database", "ok"),
        (T0, "llm", "ok"),
        (T0 + timedelta(minutes=1), "database", "down"),
        (T0 + timedelta(minutes=1), "llm", "ok"),
    ]
    clock.current += timedelta(minutes=2)  # the first slot is now past the retention
    assert await first()
    assert min(r.at for r in store.rows) == T0 + timedelta(minutes=1)


def test_slots_are_aligned_on_the_clock_so_every_instance_agrees() -> None:
    assert slot_of(T0 + timedelta(seconds=59.9), 60) == T0
    assert slot_of(T0 + timedelta(seconds=60), 60) == T0 + timedelta(minutes=1)
    assert slot_of(T0 + timedelta(seconds=7), 5) == T0 + timedelta(seconds=5)


async def test_the_report_is_for_admins_and_known_periods() -> None:
    store = SharedStore()
    store.rows = [check(-60 * 30, "ok"), check(0, "down", detail="x"), check(1, "ok")]
    report = GetHealthHistory(store, FixedClock(T0 + timedelta(minutes=2)))
    day = await report(None, "24h")  # the operator at the CLI
    assert day.components["database"].checks == 2  # the 30-hour-old check is outside
    assert (await report(None, "7d")).components["database"].checks == 3
    user = Principal(uuid.uuid4(), "user", "free", "jwt")
    with pytest.raises(Forbidden):
        await report(user, "24h")
    with pytest.raises(InvalidInput):
        await report(None, "1y")
