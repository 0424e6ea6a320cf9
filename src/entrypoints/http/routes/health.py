"""Liveness and readiness (public: load balancers call them without credentials)."""

from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get

from application.health.readiness import CheckReadiness
from entrypoints.http.auth import PUBLIC


class LiveStatus(msgspec.Struct):
    status: str


class ComponentStatus(msgspec.Struct, omit_defaults=True):
    status: str
    latency_ms: float
    detail: str | None = None


class ReadyStatus(msgspec.Struct):
    status: str
    components: dict[str, ComponentStatus]


@get("/health/live", opt=PUBLIC, tags=["health"], summary="Process is alive")
async def live() -> LiveStatus:
    return LiveStatus(status="ok")


@get(
    "/health/ready",
    opt=PUBLIC,
    tags=["health"],
    summary="Dependencies reachable (503 when a critical one is down)",
)
@inject
async def ready(readiness: FromDishka[CheckReadiness]) -> Response[ReadyStatus]:
    result = await readiness()
    body = ReadyStatus(
        status=result.status,
        components={
            name: ComponentStatus(c.status, c.latency_ms, c.detail)
            for name, c in result.components.items()
        },
    )
    return Response(body, status_code=503 if result.status == "down" else 200)


ROUTES = [live, ready]
