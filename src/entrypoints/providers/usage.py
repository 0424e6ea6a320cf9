"""Usage wiring: plans, quota ledger, spending guard, rate limits, usage and request
statistics, the response cache, metrics; the me/admin use cases.

In-process twins serve the embedded mode; with PARLEY_REDIS_URL the Redis twins make
quotas, limits and the cache global across instances.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, decorate, provide, provide_all

from adapters.memory.quota_ledger import MemoryQuotaLedger
from adapters.memory.response_cache import MemoryCache
from adapters.prometheus.metrics import PrometheusMetrics
from application.admin.api_usage import GetApiUsage
from application.admin.platform_stats import GetPlatformStats
from application.admin.update_user import UpdateUser
from application.caching.completion_cache import CompletionCache
from application.llm.router import LLMRouter
from application.monitoring.metered_provider import MeteredProvider
from application.monitoring.request_stats import RequestStats
from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.quota_ledger import QuotaLedger
from application.ports.rate_limiter import ChatSendLimit, RateLimit, RateLimiter
from application.ports.response_cache import Cache
from application.ports.spend_guard import SpendGuard
from application.ports.unit_of_work import UnitOfWorkFactory
from application.usage.get_dashboard import GetDashboard
from application.usage.get_my_usage import GetMyUsage
from application.usage.limit_strings import parse_limit_string
from application.usage.metered_spending import MeteredSpending
from application.usage.rate_limits import ChatRateLimit, RateLimitPolicy, RateLimits
from application.usage.usage_recorder import UsageRecorder
from domain.catalog import ModelCatalog
from domain.plans import Plan, PlanBook
from entrypoints.settings import Settings
from entrypoints.usage_settings import default_plans

MINUTE = 60


def plan_book(settings: Settings) -> PlanBook:
    """Configured plans over the defaults (a file that declares only ``[plans.team]``
    keeps free, pro and unlimited); new accounts get ``auth.default_plan``."""
    merged = {**default_plans(), **settings.plans}
    plans = {
        name: Plan(
            name,
            p.monthly_tokens,
            p.monthly_messages,
            p.concurrent_streams,
            frozenset(p.allowed_models),
            p.monthly_jobs,
        )
        for name, p in merged.items()
    }
    default = settings.auth.default_plan if settings.auth.default_plan in plans else "free"
    return PlanBook(plans, default)


def rate_limit_policy(settings: Settings) -> RateLimitPolicy:
    """A limit string (``PARLEY_LIMITS_CHAT``...) wins over the one-window per-minute knob;
    ``load_settings`` has already refused strings that do not parse."""
    limits = settings.limits

    def windows(text: str, per_minute: int) -> tuple[RateLimit, ...]:
        return parse_limit_string(text) if text.strip() else (RateLimit(per_minute, MINUTE),)

    return RateLimitPolicy(
        chat=windows(limits.chat, limits.chat_per_minute),
        login=windows(limits.login, settings.auth.login_per_ip_per_minute),
        default=windows(limits.default, limits.default_per_minute),
        enabled=limits.enabled,
    )


class UsageProvider(Provider):
    scope = Scope.APP

    @provide
    def plans(self, settings: Settings) -> PlanBook:
        return plan_book(settings)

    @provide
    def prometheus(self) -> PrometheusMetrics:
        return PrometheusMetrics()

    @provide
    def metrics(self, prometheus: PrometheusMetrics) -> Metrics:
        return prometheus

    @provide
    async def usage_recorder(
        self, settings: Settings, uow_factory: UnitOfWorkFactory
    ) -> AsyncIterator[UsageRecorder]:
        recorder = UsageRecorder(uow_factory, settings.usage.flush_interval_s)
        yield recorder
        await recorder.close()

    @provide
    async def request_stats(
        self, settings: Settings, uow_factory: UnitOfWorkFactory
    ) -> AsyncIterator[RequestStats]:
        stats = RequestStats(uow_factory, settings.usage.flush_interval_s)
        yield stats
        await stats.close()

    @provide
    def spending(
        self,
        settings: Settings,
        plans: PlanBook,
        ledger: QuotaLedger,
        recorder: UsageRecorder,
        catalog: ModelCatalog,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics,
    ) -> SpendGuard:
        return MeteredSpending(
            plans, ledger, recorder, catalog, uow_factory, clock, metrics,
            hold_ttl_s=settings.usage.hold_ttl_s,
        )  # fmt: skip

    @provide
    def completion_cache(
        self, settings: Settings, cache: Cache, metrics: Metrics
    ) -> CompletionCache:
        return CompletionCache(cache, metrics, settings.cache.ttl_s, settings.cache.enabled)

    chat_send_limit = provide(ChatRateLimit, provides=ChatSendLimit)

    @decorate
    def metered_router(self, router: LLMRouter, metrics: Metrics) -> LLMRouter:
        """Every upstream call reports its latency and outcome, whoever makes it (chat,
        gateway, jobs); the router keeps its breakers, keyed by provider name."""
        router.providers = {
            name: MeteredProvider(provider, metrics) for name, provider in router.providers.items()
        }
        return router


class MemoryUsageStores(Provider):
    scope = Scope.APP

    @provide
    def ledger(self) -> QuotaLedger:
        return MemoryQuotaLedger()

    @provide
    def cache(self, settings: Settings) -> Cache:
        return MemoryCache(settings.cache.max_entries)

    @provide
    def rate_limits(self, settings: Settings, limiter: RateLimiter, metrics: Metrics) -> RateLimits:
        return RateLimits(limiter, rate_limit_policy(settings), metrics)


class UsageUseCases(Provider):
    scope = Scope.REQUEST
    use_cases = provide_all(GetMyUsage, GetDashboard, UpdateUser, GetPlatformStats, GetApiUsage)


def providers(settings: Settings) -> list[Provider]:
    stores: Provider = MemoryUsageStores()
    if settings.redis.url:
        from entrypoints.providers.usage_redis import RedisUsageStores

        stores = RedisUsageStores()
    return [UsageProvider(), stores, UsageUseCases()]
