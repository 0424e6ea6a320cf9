"""The revocation store and rate limiter on Redis (global across instances), wired only
when PARLEY_REDIS_URL is set."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from adapters.redis.autopipeline import AutoPipeline
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.token_store import RedisTokenStore
from application.ports.rate_limiter import RateLimiter
from application.ports.token_store import TokenStore
from entrypoints.settings import Settings


class RedisStoresProvider(Provider):
    scope = Scope.APP

    @provide
    def token_store(self, redis: Redis, pipeline: AutoPipeline, settings: Settings) -> TokenStore:
        return RedisTokenStore(redis, settings.redis.key_prefix, pipeline)

    @provide
    def rate_limiter(self, redis: Redis, pipeline: AutoPipeline, settings: Settings) -> RateLimiter:
        return RedisRateLimiter(redis, settings.redis.key_prefix, pipeline)
