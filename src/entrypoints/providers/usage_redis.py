"""Quotas, the response cache and request limits on Redis (global across instances),
wired only when PARLEY_REDIS_URL is set."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from adapters.memory.rate_limiter import MemoryRateLimiter
from adapters.redis.autopipeline import AutoPipeline
from adapters.redis.quota_ledger import RedisQuotaLedger
from adapters.redis.response_cache import RedisCache
from application.ports.metrics import Metrics
from application.ports.quota_ledger import QuotaLedger
from application.ports.rate_limiter import RateLimiter
from application.ports.response_cache import Cache
from application.usage.fallback_rate_limiter import FallbackRateLimiter
from application.usage.rate_limits import RateLimits
from entrypoints.providers.usage import rate_limit_policy
from entrypoints.settings import Settings


class RedisUsageStores(Provider):
    scope = Scope.APP

    @provide
    def ledger(self, redis: Redis, pipeline: AutoPipeline, settings: Settings) -> QuotaLedger:
        return RedisQuotaLedger(redis, settings.redis.key_prefix, pipeline)

    @provide
    def cache(self, redis: Redis, settings: Settings) -> Cache:
        return RedisCache(redis, settings.redis.key_prefix)

    @provide
    def rate_limits(self, settings: Settings, limiter: RateLimiter, metrics: Metrics) -> RateLimits:
        # Request limits degrade to per-instance while Redis is down (see FallbackRateLimiter).
        resilient = FallbackRateLimiter(limiter, MemoryRateLimiter())
        return RateLimits(resilient, rate_limit_policy(settings), metrics)
