"""Typed fakes for the usage use cases: a usage repository in memory, a unit of work that
exposes it, a clock, a metrics recorder and a ledger that is down."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from application.ports.metrics import NoMetrics
from application.ports.quota_ledger import (
    Hold,
    QuotaAsk,
    QuotaLedger,
    QuotaLedgerUnavailable,
    QuotaLimits,
    QuotaState,
    Reservation,
)
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.ports.usage_ledger import PlatformCounts, UsageRepository, UserCounts
from domain.errors import Unavailable
from domain.usage import UsageEntry, UsageTotals
from tests.support.clock_ids import ManualClock
from tests.support.fake_uow import DirectUnitOfWork


class FixedClock(ManualClock):
    def __init__(self, now: datetime | None = None) -> None:
        super().__init__(now or datetime(2026, 11, 24, 12, 0, tzinfo=UTC))


class InMemoryUsage(UsageRepository):
    def __init__(self) -> None:
        self.rows: dict[tuple[date, UUID, str, UUID | None], UsageEntry] = {}
        self.down = False
        self.adds = 0

    async def add(self, entries: Sequence[UsageEntry]) -> None:
        if self.down:
            raise Unavailable("database down")
        self.adds += 1
        for e in entries:
            known = self.rows.get(e.key)
            totals = e.totals if known is None else known.totals + e.totals
            self.rows[e.key] = UsageEntry(e.day, e.user_id, e.model, e.api_key_id, totals)

    async def entries(self, user_id: UUID, start: date, end: date) -> list[UsageEntry]:
        return sorted(
            (e for e in self.rows.values() if e.user_id == user_id and start <= e.day <= end),
            key=lambda e: (e.day, e.model),
        )

    async def totals_since(self, user_id: UUID, start: date) -> UsageTotals:
        found = [e.totals for e in self.rows.values() if e.user_id == user_id and e.day >= start]
        return sum(found, UsageTotals())

    async def platform_counts(self) -> PlatformCounts:
        totals = sum((e.totals for e in self.rows.values()), UsageTotals())
        return PlatformCounts(0, 0, 0, 0, totals)

    async def user_counts(self, user_id: UUID) -> UserCounts:
        return UserCounts(0, 0, 0)


class UsageUnitOfWork(DirectUnitOfWork):
    """Only ``usage`` is used by the code under test; other repositories are absent."""

    def __init__(self, usage: InMemoryUsage) -> None:
        self.usage = usage
        self.commits = 0


class UsageUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, usage: InMemoryUsage) -> None:
        self.usage = usage

    def __call__(self) -> UnitOfWork:
        return UsageUnitOfWork(self.usage)


@dataclass
class RecordingMetrics(NoMetrics):
    rejections: list[str] = field(default_factory=list)
    spent: list[tuple[str, int, int, float]] = field(default_factory=list)
    streams: int = 0

    def quota_rejected(self, reason: str) -> None:
        self.rejections.append(reason)

    def tokens_spent(self, model: str, prompt: int, completion: int, cost_usd: float) -> None:
        self.spent.append((model, prompt, completion, cost_usd))

    def stream_started(self) -> None:
        self.streams += 1

    def stream_ended(self) -> None:
        self.streams -= 1


class DownLedger(QuotaLedger):
    """A ledger whose backend is unreachable."""

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self) -> Any:
        self.calls += 1
        raise QuotaLedgerUnavailable("redis down")

    async def reserve(
        self, account: str, period: str, ask: QuotaAsk, limits: QuotaLimits, ttl_s: float
    ) -> Reservation:
        return self._fail()  # type: ignore[no-any-return]

    async def settle(self, hold: Hold, *, tokens: int, messages: int) -> None:
        self._fail()

    async def seed(self, account: str, period: str, *, tokens: int, messages: int) -> None:
        self._fail()

    async def state(self, account: str, period: str) -> QuotaState | None:
        return self._fail()  # type: ignore[no-any-return]
