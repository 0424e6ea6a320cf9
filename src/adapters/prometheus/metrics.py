"""Prometheus metrics: one private registry per app (tests can build many apps), label
values only from bounded sets (route templates, catalog model ids, error codes).

Circuit-breaker states are handed in when scraped (``exposition``), so the LLM router
needs no knowledge of Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from application.ports.context_source import ContextMetrics
from application.ports.metrics import Metrics

CONTENT_TYPE = "text/plain; version=0.0.4"  # Litestar appends the charset
BREAKER_VALUES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _BreakerCollector(Collector):
    def __init__(self, states: Callable[[], Mapping[str, str]]) -> None:
        self._states = states

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "parley_provider_circuit_state",
            "Circuit breaker per provider: 0 closed, 1 half-open, 2 open.",
            labels=["provider"],
        )
        for provider, state in sorted(self._states().items()):
            family.add_metric([provider], BREAKER_VALUES.get(state, 0.0))
        yield family


class PrometheusMetrics(Metrics, ContextMetrics):
    def __init__(self) -> None:
        self._breakers: Mapping[str, str] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._http_requests = Counter(
            "parley_http_requests", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=r,
        )  # fmt: skip
        self._http_latency = Histogram(
            "parley_http_request_duration_seconds",
            "Time to the response headers, by route template.",
            ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self._streams = Gauge("parley_active_streams", "Replies streaming now.", registry=r)
        self._websockets = Gauge(
            "parley_websocket_connections", "Open WebSocket connections.", registry=r
        )
        self._provider_latency = Histogram(
            "parley_provider_request_duration_seconds",
            "Upstream call duration (a stream: until its end), by provider and model.",
            ["provider", "model"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self._provider_errors = Counter(
            "parley_provider_errors", "Failed upstream calls by error code.",
            ["provider", "model", "code"], registry=r,
        )  # fmt: skip
        self._tokens = Counter(
            "parley_tokens", "Tokens spent, by model and kind (prompt, completion).",
            ["model", "kind"], registry=r,
        )  # fmt: skip
        self._cost = Counter("parley_cost_usd", "Cost in USD by model.", ["model"], registry=r)
        self._quota_rejections = Counter(
            "parley_quota_rejections", "Requests refused by quota (tokens, messages, streams, "
            "model).", ["reason"], registry=r,
        )  # fmt: skip
        self._rate_limited = Counter(
            "parley_rate_limit_rejections", "Requests refused by rate limits, by route group.",
            ["group"], registry=r,
        )  # fmt: skip
        self._cache = Counter(
            "parley_cache_lookups", "Response cache lookups by result.", ["result"], registry=r
        )
        self._context_calls = Counter(
            "parley_context_source_requests", "Context source calls by source and outcome "
            "(ok, unavailable, timeout).", ["source", "status"], registry=r,
        )  # fmt: skip
        self._context_latency = Histogram(
            "parley_context_source_duration_seconds", "Context source call duration.",
            ["source"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        r.register(_BreakerCollector(lambda: self._breakers))

    def exposition(
        self,
        breaker_states: Mapping[str, str] | None = None,
        websocket_connections: int | None = None,
    ) -> bytes:
        """Render the registry; states owned elsewhere are read now, at scrape time."""
        if breaker_states is not None:
            self._breakers = dict(breaker_states)
        if websocket_connections is not None:
            self._websockets.set(websocket_connections)
        return generate_latest(self.registry)

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._http_requests.labels(method, route, str(status)).inc()
        self._http_latency.labels(method, route).observe(seconds)

    def tokens_spent(
        self, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None:
        self._tokens.labels(model, "prompt").inc(prompt_tokens)
        self._tokens.labels(model, "completion").inc(completion_tokens)
        self._cost.labels(model).inc(cost_usd)

    def quota_rejected(self, reason: str) -> None:
        self._quota_rejections.labels(reason).inc()

    def rate_limited(self, group: str) -> None:
        self._rate_limited.labels(group).inc()

    def stream_started(self) -> None:
        self._streams.inc()

    def stream_ended(self) -> None:
        self._streams.dec()

    def provider_call(
        self, provider: str, model: str, seconds: float, error_code: str | None
    ) -> None:
        self._provider_latency.labels(provider, model).observe(seconds)
        if error_code is not None:
            self._provider_errors.labels(provider, model, error_code).inc()

    def cache_lookup(self, hit: bool) -> None:
        self._cache.labels("hit" if hit else "miss").inc()

    def context_source_call(self, source: str, status: str, seconds: float) -> None:
        self._context_calls.labels(source, status).inc()
        self._context_latency.labels(source).observe(seconds)
