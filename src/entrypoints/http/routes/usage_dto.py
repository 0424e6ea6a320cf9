"""Response bodies of the usage and dashboard routes, and the problem shape they share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from application.usage.get_dashboard import Dashboard
from application.usage.get_my_usage import UsageReport
from domain.plans import Plan
from domain.usage import UsageTotals
from entrypoints.http.routes.identity_dto import UserOut

_NANO = Decimal("1e-9")


class Problem(msgspec.Struct):
    """RFC 9457 problem details, as every error of this API is sent (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    timestamp: str
    details: dict[str, Any] | None = None


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    text = {
        400: "Invalid input (`VALIDATION_ERROR`, `INVALID_PLAN`, `INVALID_ROLE`)",
        401: "Missing or invalid credentials",
        403: "Not an admin (`FORBIDDEN`)",
        404: "No such user",
        429: "Rate limited (`RATE_LIMITED`, with `Retry-After` and `RateLimit-*` headers)",
        503: "A dependency is down; retry later",
    }
    return {
        s: ResponseSpec(Problem, description=text[s], media_type="application/problem+json")
        for s in statuses
    }


def money(amount: Decimal) -> str:
    """USD as a decimal string: no float rounding in JSON (the messages API does the same)."""
    return format(amount.quantize(_NANO).normalize(), "f")


class TotalsOut(msgspec.Struct):
    messages: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: str

    @classmethod
    def of(cls, t: UsageTotals) -> TotalsOut:
        return cls(
            t.messages, t.prompt_tokens, t.completion_tokens, t.total_tokens, money(t.cost_usd)
        )


class ModelUsageOut(msgspec.Struct):
    model: str
    messages: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: str

    @classmethod
    def of(cls, model: str, t: UsageTotals) -> ModelUsageOut:
        return cls(
            model, t.messages, t.prompt_tokens, t.completion_tokens, t.total_tokens,
            money(t.cost_usd),
        )  # fmt: skip


class DayUsageOut(msgspec.Struct):
    date: date
    messages: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: str
    models: list[ModelUsageOut]


class KeyUsageOut(msgspec.Struct):
    api_key_id: UUID | None
    """``null``: requests made with a signed-in session."""
    messages: int
    total_tokens: int
    cost_usd: str


class UsageOut(msgspec.Struct):
    period: str
    start: date
    end: date
    totals: TotalsOut
    days: list[DayUsageOut]
    models: list[ModelUsageOut]
    api_keys: list[KeyUsageOut]

    @classmethod
    def of(cls, r: UsageReport) -> UsageOut:
        days = [
            DayUsageOut(
                d.day,
                d.totals.messages,
                d.totals.prompt_tokens,
                d.totals.completion_tokens,
                d.totals.total_tokens,
                money(d.totals.cost_usd),
                [ModelUsageOut.of(m, t) for m, t in sorted(d.models.items())],
            )
            for d in r.days
        ]
        keys = [
            KeyUsageOut(k, t.messages, t.total_tokens, money(t.cost_usd))
            for k, t in sorted(r.api_keys.items(), key=lambda kv: str(kv[0] or ""))
        ]
        return cls(
            r.period.name,
            r.period.start,
            r.period.end,
            TotalsOut.of(r.totals),
            days,
            [ModelUsageOut.of(m, t) for m, t in sorted(r.models.items())],
            keys,
        )


class PlanOut(msgspec.Struct):
    """Limits are ``null`` when unlimited; ``allowed_models`` empty means every model."""

    name: str
    monthly_tokens: int | None
    monthly_messages: int | None
    concurrent_streams: int | None
    allowed_models: list[str]
    monthly_jobs: int | None = None

    @classmethod
    def of(cls, p: Plan) -> PlanOut:
        return cls(
            p.name, p.monthly_tokens, p.monthly_messages, p.concurrent_streams,
            sorted(p.allowed_models), p.monthly_jobs,
        )  # fmt: skip


class RemainingOut(msgspec.Struct):
    tokens: int | None
    messages: int | None
    jobs: int | None = None


class CountsOut(msgspec.Struct):
    conversations: int
    messages: int
    api_keys: int
    jobs_this_month: int = 0


class DashboardUsageOut(msgspec.Struct):
    period: Literal["month"]
    start: date
    end: date
    messages: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: str


class DashboardOut(msgspec.Struct):
    user: UserOut
    plan: PlanOut
    usage: DashboardUsageOut
    remaining: RemainingOut
    active_streams: int
    counts: CountsOut

    @classmethod
    def of(cls, d: Dashboard) -> DashboardOut:
        u = d.usage
        usage = DashboardUsageOut(
            "month", d.period.start, d.period.end, u.messages, u.prompt_tokens,
            u.completion_tokens, u.total_tokens, money(u.cost_usd),
        )  # fmt: skip
        return cls(
            UserOut.of(d.user),
            PlanOut.of(d.plan),
            usage,
            RemainingOut(d.remaining.tokens, d.remaining.messages, d.remaining.jobs),
            d.in_flight_streams,
            CountsOut(
                d.counts.conversations, d.counts.messages, d.counts.api_keys, d.jobs_this_month
            ),
        )
