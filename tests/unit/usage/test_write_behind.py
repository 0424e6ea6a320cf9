"""UsageRecorder and RequestStats: aggregate in memory, write behind, lose nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from application.monitoring.request_stats import RequestStats
from application.ports.unit_of_work import UnitOfWork
from application.ports.usage_ledger import RouteStatsRepository
from application.usage.usage_recorder import UsageRecorder
from domain.route_stats import RouteStats
from domain.usage import UsageEntry, UsageTotals
from tests.unit.usage.fakes import InMemoryUsage, UsageUnitOfWork, UsageUnitOfWorkFactory

DAY = date(2026, 11, 24)


def entry(user: uuid.UUID, messages: int = 1, model: str = "m") -> UsageEntry:
    return UsageEntry(DAY, user, model, None, UsageTotals(messages, 10, 5, Decimal("0.01")))


async def test_requests_on_one_day_and_model_become_one_row_update() -> None:
    usage = InMemoryUsage()
    recorder = UsageRecorder(UsageUnitOfWorkFactory(usage), interval_s=60)
    user = uuid.uuid4()
    for _ in range(5):
        recorder.record(entry(user))
    recorder.record(entry(user, model="other"))
    await recorder.flush()
    assert usage.adds == 1 and len(usage.rows) == 2
    row = usage.rows[(DAY, user, "m", None)]
    assert row.totals == UsageTotals(5, 50, 25, Decimal("0.05"))


async def test_a_failed_write_keeps_the_usage_for_the_next_flush() -> None:
    usage = InMemoryUsage()
    recorder = UsageRecorder(UsageUnitOfWorkFactory(usage), interval_s=60)
    user = uuid.uuid4()
    recorder.record(entry(user, 2))
    usage.down = True
    await recorder.flush()  # logged, not raised
    recorder.record(entry(user, 3))
    usage.down = False
    await recorder.close()
    assert usage.rows[(DAY, user, "m", None)].totals.messages == 5


class InMemoryRouteStats(RouteStatsRepository):
    def __init__(self) -> None:
        self.rows: dict[tuple[str, date, str, str], tuple[int, int]] = {}

    async def save(self, instance: str, stats: Sequence[RouteStats]) -> None:
        for s in stats:
            self.rows[(instance, s.day, s.method, s.route)] = (s.requests, s.errors)

    async def load(self, start: date, end: date) -> list[RouteStats]:
        return []


class StatsUnitOfWork(UsageUnitOfWork):
    def __init__(self, route_stats: InMemoryRouteStats) -> None:
        super().__init__(InMemoryUsage())
        self.route_stats = route_stats


class StatsFactory(UsageUnitOfWorkFactory):
    def __init__(self, route_stats: InMemoryRouteStats) -> None:
        self.route_stats = route_stats

    def __call__(self) -> UnitOfWork:
        return StatsUnitOfWork(self.route_stats)


async def test_request_stats_rewrite_their_running_totals_and_forget_finished_days() -> None:
    repo = InMemoryRouteStats()
    today = [DAY]
    stats = RequestStats(StatsFactory(repo), interval_s=60, today=lambda: today[0])
    stats.observe("GET", "/a/{id}", 200, 3.0)
    stats.observe("GET", "/a/{id}", 503, 30.0)
    await stats.flush()
    stats.observe("GET", "/a/{id}", 200, 4.0)
    await stats.flush()
    assert repo.rows[(stats.instance, DAY, "GET", "/a/{id}")] == (3, 1)  # replaced, not added
    today[0] = DAY + timedelta(days=1)
    stats.observe("GET", "/a/{id}", 200, 4.0)
    await stats.flush()
    assert repo.rows[(stats.instance, today[0], "GET", "/a/{id}")] == (1, 0)
    assert list(stats._stats) == [(today[0], "GET", "/a/{id}")]  # yesterday is written: gone
