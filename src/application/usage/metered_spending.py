"""MeteredSpending: plans, quota reservations and usage accounting behind ``SpendGuard``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

import structlog

from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.quota_ledger import (
    QuotaAsk,
    QuotaLedger,
    QuotaLedgerUnavailable,
    QuotaLimits,
    Reservation,
)
from application.ports.spend_guard import SpendGuard, SpendRequest, SpendTicket
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.usage.usage_recorder import UsageRecorder
from domain.catalog import ModelCatalog
from domain.errors import DomainError
from domain.plans import Plan, PlanBook, QuotaExceeded, TooManyStreams
from domain.usage import UsageEntry, UsageTotals, month_key, seconds_until_next_month

log = structlog.get_logger("parley.usage")

T = TypeVar("T")

STREAM_RETRY_AFTER_S = 5.0


class MeteredSpending(SpendGuard):
    """Business rules:
    - the caller's plan decides the models allowed, the monthly token and message quota
      and the concurrent streams; quotas are per user over the calendar month (UTC);
    - a reservation holds the estimated prompt plus the completion budget; when less is
      left, the completion budget shrinks to fit, and below one token the request is
      refused (QUOTA_EXCEEDED) before any upstream call;
    - reservations are atomic in the ledger, so concurrent requests cannot overspend;
    - the ledger is seeded from the usage ledger (the database) the first time a month is
      seen, so restarts and a flushed Redis do not reset anyone's quota;
    - if the ledger is down, nothing is spent (503 QUOTA_UNAVAILABLE); a plan without any
      limit needs no reservation and keeps working;
    - settling counts the real tokens, one message if the model produced anything, and
      the cost from the answering model's prices; a release counts nothing.
    """

    def __init__(
        self,
        plans: PlanBook,
        ledger: QuotaLedger,
        recorder: UsageRecorder,
        catalog: ModelCatalog,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics,
        hold_ttl_s: float = 600.0,
    ) -> None:
        self._plans = plans
        self._ledger = ledger
        self._recorder = recorder
        self._catalog = catalog
        self._uow_factory = uow_factory
        self._clock = clock
        self._metrics = metrics
        self._hold_ttl_s = hold_ttl_s

    async def reserve(self, request: SpendRequest, uow: UnitOfWork | None = None) -> SpendTicket:
        name = request.plan
        if name is None:
            user = await self._read(uow, lambda u: u.users.get(request.user_id))
            name = user.plan if user is not None else ""
        plan = self._plans.get(name)
        if not plan.allows_model(request.model.id):
            self._metrics.quota_rejected("model")
        plan.check_model(request.model.id)
        limits = QuotaLimits(
            plan.monthly_tokens,
            plan.monthly_messages,
            plan.concurrent_streams if request.stream else None,
        )
        hold = None
        max_tokens = request.max_tokens
        if limits != QuotaLimits():
            prompt = max(0, request.prompt_tokens)
            messages = 1 if request.counts_as_message else 0
            ask = QuotaAsk(prompt + request.max_tokens, prompt + 1, messages, request.stream)
            reservation = await self._reserve(request.user_id, ask, limits, uow)
            self._refuse_if_denied(reservation, plan)
            hold = reservation.hold
            assert hold is not None
            max_tokens = max(1, min(request.max_tokens, hold.tokens - prompt))
        if request.stream:
            self._metrics.stream_started()
        return SpendTicket(
            request.user_id, request.api_key_id, request.model.id, max_tokens, request.stream, hold,
            counts_as_message=request.counts_as_message,
        )  # fmt: skip

    async def settle(
        self, ticket: SpendTicket, *, model_id: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        prompt, completion = max(0, prompt_tokens), max(0, completion_tokens)
        spent = prompt + completion > 0
        messages = 1 if spent and ticket.counts_as_message else 0
        await self._close(ticket, prompt + completion, messages)
        if not spent:
            return
        cost = self._cost(model_id, ticket.model_id, prompt, completion)
        self._metrics.tokens_spent(model_id, prompt, completion, float(cost))
        self._recorder.record(
            UsageEntry(
                self._clock.now().date(),
                ticket.user_id,
                model_id,
                ticket.api_key_id,
                UsageTotals(messages, prompt, completion, cost),
            )
        )

    async def release(self, ticket: SpendTicket) -> None:
        await self._close(ticket, 0, 0)

    async def _reserve(
        self, user_id: UUID, ask: QuotaAsk, limits: QuotaLimits, uow: UnitOfWork | None
    ) -> Reservation:
        account = str(user_id)
        now = self._clock.now()
        period = month_key(now.date())
        reservation = await self._ledger.reserve(account, period, ask, limits, self._hold_ttl_s)
        if not reservation.needs_seed:
            return reservation
        month_start = now.date().replace(day=1)
        spent = await self._read(uow, lambda u: u.usage.totals_since(user_id, month_start))
        await self._ledger.seed(account, period, tokens=spent.total_tokens, messages=spent.messages)
        reservation = await self._ledger.reserve(account, period, ask, limits, self._hold_ttl_s)
        if reservation.needs_seed:  # the ledger lost the seed at once: it is not healthy
            raise QuotaLedgerUnavailable("quota accounting is unavailable; try again")
        return reservation

    async def _read(self, uow: UnitOfWork | None, query: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Through the caller's open unit of work if there is one, else a short one."""
        if uow is not None:
            return await query(uow)
        async with self._uow_factory() as own:
            return await query(own)

    def _refuse_if_denied(self, reservation: Reservation, plan: Plan) -> None:
        if reservation.denied is None:
            return
        self._metrics.quota_rejected(reservation.denied)
        if reservation.denied == "streams":
            raise TooManyStreams(
                f"the {plan.name!r} plan allows {plan.concurrent_streams} replies streaming "
                "at once; wait for one to finish",
                retry_after_s=STREAM_RETRY_AFTER_S,
            )
        unit = "tokens" if reservation.denied == "tokens" else "messages"
        limit = plan.monthly_tokens if unit == "tokens" else plan.monthly_messages
        raise QuotaExceeded(
            f"the monthly {unit} quota of the {plan.name!r} plan is used up",
            retry_after_s=seconds_until_next_month(self._clock.now()),
            details={"quota": unit, "limit": limit, "plan": plan.name},
        )

    async def _close(self, ticket: SpendTicket, tokens: int, messages: int) -> None:
        if ticket.stream:
            self._metrics.stream_ended()
        if ticket.hold is None:
            return
        try:
            await self._ledger.settle(ticket.hold, tokens=tokens, messages=messages)
        except DomainError as exc:
            # The hold expires on its own; the usage ledger still records the spending.
            log.warning("quota_settle_failed", code=exc.code, hold=ticket.hold.id)

    def _cost(self, model_id: str, fallback_id: str, prompt: int, completion: int) -> Decimal:
        return self._catalog.cost_usd(model_id, fallback_id, prompt, completion)
