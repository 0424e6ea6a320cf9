"""GET /api/v1/admin/health-history: uptime, failures, latency and incidents per component
from the periodic checks (role admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from dishka import AsyncContainer
from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, get
from litestar.params import Parameter

from application.health.history import GetHealthHistory, HealthHistoryLoop, HealthHistoryReport
from application.identity.principal import Principal
from entrypoints.http.routes.usage_dto import problems
from entrypoints.settings import Settings


class IncidentOut(msgspec.Struct):
    started_at: datetime
    ended_at: datetime | None
    detail: str


class ComponentHistoryOut(msgspec.Struct):
    uptime_ratio: float
    checks: int
    failures: int
    p50_latency_ms: float
    incidents: list[IncidentOut]


class HealthHistoryOut(msgspec.Struct):
    period: str
    since: datetime
    components: dict[str, ComponentHistoryOut]

    @classmethod
    def of(cls, report: HealthHistoryReport) -> HealthHistoryOut:
        return cls(
            period=report.period,
            since=report.since,
            components={
                name: ComponentHistoryOut(
                    c.uptime_ratio,
                    c.checks,
                    c.failures,
                    c.p50_latency_ms,
                    [IncidentOut(i.started_at, i.ended_at, i.detail) for i in c.incidents],
                )
                for name, c in report.components.items()
            },
        )


@get(
    "/health-history",
    summary="Uptime, failures, p50 latency and incidents per component",
    responses=problems(400, 401, 403, 429, 503),
)
@inject
async def health_history(
    principal: FromDishka[Principal],
    use_case: FromDishka[GetHealthHistory],
    period: Annotated[
        Literal["24h", "7d"], Parameter(description="The last 24 hours or the last 7 days.")
    ] = "24h",
) -> HealthHistoryOut:
    """From the periodic checks (every `PARLEY_HEALTH_HISTORY_INTERVAL_S`, one per interval
    over every instance). A check counts as a failure unless it answered `ok`; an incident
    runs from the first failing check to the next `ok` one (`ended_at` null while open)."""
    return HealthHistoryOut.of(await use_case(principal, period))


async def start_health_history(container: AsyncContainer) -> None:
    settings = await container.get(Settings)
    if settings.health.history_enabled:
        (await container.get(HealthHistoryLoop)).start()


async def stop_health_history(container: AsyncContainer) -> None:
    await (await container.get(HealthHistoryLoop)).stop()


ROUTES = [
    Router(
        path="/api/v1/admin", tags=["admin"], opt={"admin": True}, route_handlers=[health_history]
    )
]
