"""GET /metrics: Prometheus text format.

Public unless ``PARLEY_METRICS_TOKEN`` is set; then it needs ``Authorization: Bearer
<token>`` (compared in constant time). Not a user route: user credentials do not apply.
"""

from __future__ import annotations

import hmac
from typing import Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from adapters.prometheus.metrics import CONTENT_TYPE, PrometheusMetrics
from application.llm.router import LLMRouter
from domain.errors import NotFound, Unauthenticated
from entrypoints.http.auth import PUBLIC, bearer_credential
from entrypoints.http.websocket.registry import SocketRegistry
from entrypoints.settings import Settings


@get(
    "/metrics",
    opt=PUBLIC,
    summary="Prometheus metrics",
    tags=["health"],
    media_type=CONTENT_TYPE,
    security=[{"bearer": []}, {}],
    responses={401: ResponseSpec(None, description="PARLEY_METRICS_TOKEN set, token missing")},
)
@inject
async def metrics(
    request: Request[Any, Any, Any],
    settings: FromDishka[Settings],
    registry: FromDishka[PrometheusMetrics],
    router: FromDishka[LLMRouter],
    sockets: FromDishka[SocketRegistry],
) -> Response[bytes]:
    """HTTP requests and latency by route template and status, active streams, WebSocket
    connections, provider latency, errors and circuit state, tokens and cost by model,
    quota and rate-limit rejections, cache lookups."""
    config = settings.metrics
    if not config.enabled:
        raise NotFound("metrics are disabled")
    if config.token:
        given = bearer_credential(request.headers.get("authorization")) or ""
        if not hmac.compare_digest(given.encode(), config.token.encode()):
            raise Unauthenticated("a metrics token is required")
    body = registry.exposition(router.breaker_states(), len(sockets))
    return Response(body, media_type=CONTENT_TYPE)


ROUTES = [metrics]
