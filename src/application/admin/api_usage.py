"""GetApiUsage: requests, errors and latency per route, over every instance, for admins."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.principal import Principal
from application.identity.user_lookup import require_admin
from application.monitoring.request_stats import RequestStats
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.route_stats import RouteStats
from domain.usage import Period


@dataclass(frozen=True, slots=True)
class RouteUsage:
    method: str
    route: str
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True, slots=True)
class ApiUsageReport:
    period: Period
    routes: list[RouteUsage]
    """Busiest first."""


class GetApiUsage:
    """Business rules: admins only; routes are templates; errors are 5xx responses;
    latency is the time to the response headers (a stream's duration is not latency),
    estimated from merged histograms of every instance; this instance's latest figures
    are written first so the report includes them."""

    def __init__(self, uow: UnitOfWork, stats: RequestStats, clock: Clock) -> None:
        self._uow = uow
        self._stats = stats
        self._clock = clock

    async def __call__(self, actor: Principal, period_name: str) -> ApiUsageReport:
        require_admin(actor)
        period = Period.parse(period_name, self._clock.now().date())
        await self._stats.flush()
        async with self._uow as uow:
            rows = await uow.route_stats.load(period.start, period.end)
        merged: dict[tuple[str, str], RouteStats] = {}
        for row in rows:
            key = (row.method, row.route)
            if key not in merged:
                merged[key] = RouteStats(period.start, row.method, row.route)
            merged[key].merge(row)
        routes = [
            RouteUsage(
                s.method, s.route, s.requests, s.errors, s.percentile_ms(0.5), s.percentile_ms(0.95)
            )
            for s in sorted(merged.values(), key=lambda s: (-s.requests, s.route, s.method))
        ]
        return ApiUsageReport(period, routes)
