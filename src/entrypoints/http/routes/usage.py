"""/api/v1/me/usage and /api/v1/me/dashboard: the caller's own spending and quota."""

from __future__ import annotations

from typing import Annotated, Literal

from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, get
from litestar.params import Parameter

from application.identity.principal import Principal
from application.usage.get_dashboard import GetDashboard
from application.usage.get_my_usage import GetMyUsage
from entrypoints.http.routes.usage_dto import DashboardOut, UsageOut, problems

ERRORS = problems(400, 401, 429, 503)

PeriodName = Literal["1d", "7d", "30d", "month"]


@get("/usage", summary="Your usage: totals, per day and per model", responses=ERRORS)
@inject
async def my_usage(
    principal: FromDishka[Principal],
    use_case: FromDishka[GetMyUsage],
    period: Annotated[
        PeriodName,
        Parameter(description="Last 1, 7 or 30 days (UTC, ending today) or this calendar month."),
    ] = "7d",
) -> UsageOut:
    """Tokens, messages (requests that reached a model) and cost in USD, in total, for each
    day of the period (zeros included), per model, and per API key (`null`: sessions)."""
    return UsageOut.of(await use_case(principal, period))


@get(
    "/dashboard",
    summary="You, your plan, this month's usage and remaining quota",
    responses=ERRORS,
)
@inject
async def my_dashboard(
    principal: FromDishka[Principal], use_case: FromDishka[GetDashboard]
) -> DashboardOut:
    """Quotas are per calendar month (UTC); `remaining` is `null` for unlimited, and counts
    replies still in flight as spent."""
    return DashboardOut.of(await use_case(principal))


ROUTES = [Router(path="/api/v1/me", tags=["usage"], route_handlers=[my_usage, my_dashboard])]
