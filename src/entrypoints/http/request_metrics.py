"""Raw-ASGI request accounting: Prometheus HTTP metrics, per-route statistics for the admin
report, RateLimit-* headers on responses that passed a rate limit, and
``X-Parley-Overhead-Ms`` on chat and /v1 responses: the time from this middleware seeing
the request to the response's headers, less the time the handler spent waiting on the
model (``scope["state"]["upstream_s"]``, set by those handlers). For a stream it is the
overhead before the first byte: what Parley adds to the time to first token.

Labels are route templates (``/api/v1/conversations/{conversation_id}``), so a client
cannot grow the metrics by inventing paths; unmatched paths share one label. Latency is
the time to the response headers: a stream's length is not the server's latency.
"""

from __future__ import annotations

import math
import time
from typing import Any

from dishka import AsyncContainer
from litestar.datastructures import ResponseHeader
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from adapters.prometheus.metrics import PrometheusMetrics
from application.monitoring.request_stats import RequestStats
from application.ports.rate_limiter import RateDecision
from entrypoints.http.rate_limit_guard import RATE_LIMIT_STATE, UPSTREAM_STATE

UNMATCHED = "<unmatched>"
OVERHEAD_DOC = ResponseHeader(
    name="X-Parley-Overhead-Ms",
    description="Milliseconds Parley spent on this request other than waiting on the model: "
    "time to the response headers less the time waiting on the upstream (for a stream, its "
    "overhead before the first byte).",
    documentation_only=True,
)
OVERHEAD_HEADER = b"x-parley-overhead-ms"


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, container: AsyncContainer) -> None:
        self.app = app
        self._container = container
        self._metrics: PrometheusMetrics | None = None
        self._stats: RequestStats | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        if self._metrics is None or self._stats is None:
            self._metrics = await self._container.get(PrometheusMetrics)
            self._stats = await self._container.get(RequestStats)
        metrics, stats = self._metrics, self._stats
        started = time.perf_counter()
        outcome: list[Any] = [500, None]  # status, seconds to headers

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome[0] = message["status"]
                outcome[1] = time.perf_counter() - started
                decision = scope.get("state", {}).get(RATE_LIMIT_STATE)
                headers = message.get("headers", [])
                # A response that carries its own limit (another limiter's 429) keeps it.
                if decision is not None and not any(k == b"ratelimit-limit" for k, _ in headers):
                    headers = [*headers, *_headers(decision)]
                upstream_s = scope.get("state", {}).get(UPSTREAM_STATE)
                if upstream_s is not None:
                    overhead_ms = max(0.0, (outcome[1] - upstream_s) * 1000)
                    headers = [*headers, (OVERHEAD_HEADER, b"%.2f" % overhead_ms)]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = outcome[1] if outcome[1] is not None else time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED
            method = str(scope.get("method", "GET"))
            metrics.http_request(method, route, outcome[0], seconds)
            stats.observe(method, route, outcome[0], seconds * 1000)


def _headers(decision: RateDecision) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(max(0, decision.remaining)).encode()),
        (b"ratelimit-reset", str(max(1, math.ceil(decision.reset_after_s))).encode()),
    ]
