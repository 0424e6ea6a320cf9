"""GetMyUsage: the caller's spending over a period, in total, per day and per model."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from application.identity.principal import Principal
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from application.usage.usage_recorder import UsageRecorder
from domain.usage import Period, UsageEntry, UsageTotals


@dataclass(frozen=True, slots=True)
class DayUsage:
    day: date
    totals: UsageTotals
    models: dict[str, UsageTotals]


@dataclass(frozen=True, slots=True)
class UsageReport:
    period: Period
    totals: UsageTotals
    days: list[DayUsage]
    """Every day of the period, oldest first, zeros included (charts need no gaps)."""
    models: dict[str, UsageTotals]
    api_keys: dict[UUID | None, UsageTotals]
    """``None``: requests made with a signed-in session rather than an API key."""


class GetMyUsage:
    """Business rules: a caller sees only their own usage; periods are ``1d``, ``7d``,
    ``30d`` (ending today, UTC) or ``month`` (the current calendar month); this process's
    not-yet-written usage is written first, so a reply just received is included."""

    def __init__(self, uow: UnitOfWork, recorder: UsageRecorder, clock: Clock) -> None:
        self._uow = uow
        self._recorder = recorder
        self._clock = clock

    async def __call__(self, principal: Principal, period_name: str) -> UsageReport:
        period = Period.parse(period_name, self._clock.now().date())
        await self._recorder.flush()
        async with self._uow as uow:
            entries = await uow.usage.entries(principal.user_id, period.start, period.end)
        return build_report(period, entries)


def build_report(period: Period, entries: list[UsageEntry]) -> UsageReport:
    per_day: dict[date, dict[str, UsageTotals]] = defaultdict(dict)
    models: dict[str, UsageTotals] = {}
    keys: dict[UUID | None, UsageTotals] = {}
    for e in entries:
        day = per_day[e.day]
        day[e.model] = day.get(e.model, UsageTotals()) + e.totals
        models[e.model] = models.get(e.model, UsageTotals()) + e.totals
        keys[e.api_key_id] = keys.get(e.api_key_id, UsageTotals()) + e.totals
    days = [
        DayUsage(d, sum(per_day[d].values(), UsageTotals()), dict(per_day[d]))
        for d in period.days()
    ]
    return UsageReport(
        period=period,
        totals=sum(models.values(), UsageTotals()),
        days=days,
        models=models,
        api_keys=keys,
    )
