"""GetDashboard: who I am, my plan, what I spent this month and what is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import structlog

from application.identity.principal import Principal
from application.ports.clock import Clock
from application.ports.quota_ledger import QuotaLedger
from application.ports.unit_of_work import UnitOfWork
from application.ports.usage_ledger import UserCounts
from application.usage.usage_recorder import UsageRecorder
from domain.errors import DomainError
from domain.plans import Plan, PlanBook
from domain.usage import Period, UsageTotals, month_key
from domain.users import User, UserNotFound

log = structlog.get_logger("parley.usage")


@dataclass(frozen=True, slots=True)
class Remaining:
    """``None``: unlimited."""

    tokens: int | None
    messages: int | None
    jobs: int | None = None


@dataclass(frozen=True, slots=True)
class Dashboard:
    user: User
    plan: Plan
    period: Period
    usage: UsageTotals
    remaining: Remaining
    in_flight_streams: int
    counts: UserCounts
    jobs_this_month: int = 0
    """Visible jobs submitted this month (what ``monthly_jobs`` caps)."""


class GetDashboard:
    """Business rules: the caller's own figures only; usage is the current calendar month
    (UTC), the quota period; remaining quota subtracts settled and in-flight reservations
    as the quota ledger sees them, or only the recorded usage if the ledger is unreachable
    (the dashboard stays up without Redis)."""

    def __init__(
        self,
        uow: UnitOfWork,
        plans: PlanBook,
        ledger: QuotaLedger,
        recorder: UsageRecorder,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._plans = plans
        self._ledger = ledger
        self._recorder = recorder
        self._clock = clock

    async def __call__(self, principal: Principal) -> Dashboard:
        today = self._clock.now().date()
        period = Period.parse("month", today)
        await self._recorder.flush()
        async with self._uow as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise UserNotFound("the account no longer exists")
            usage = await uow.usage.totals_since(user.id, period.start)
            counts = await uow.usage.user_counts(user.id)
            jobs = await uow.jobs.count_since(user.id, _month_start(period.start))
        plan = self._plans.get(user.plan)
        tokens_spent, messages_spent, streams = usage.total_tokens, usage.messages, 0
        try:
            state = await self._ledger.state(str(user.id), month_key(today))
        except DomainError as exc:
            log.info("dashboard_without_ledger", code=exc.code)
            state = None
        if state is not None:
            tokens_spent = max(tokens_spent, state.tokens_used + state.tokens_held)
            messages_spent = max(messages_spent, state.messages_used + state.messages_held)
            streams = state.streams_open
        remaining = Remaining(
            _left(plan.monthly_tokens, tokens_spent),
            _left(plan.monthly_messages, messages_spent),
            _left(plan.monthly_jobs, jobs),
        )
        return Dashboard(user, plan, period, usage, remaining, streams, counts, jobs)


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _left(limit: int | None, spent: int) -> int | None:
    return None if limit is None else max(0, limit - spent)
