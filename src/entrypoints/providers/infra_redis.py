"""The Redis client and the readiness probes with Redis, wired only when PARLEY_REDIS_URL is
set: the embedded default never imports the Redis client library."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.health import DatabaseProbe
from adapters.redis.autopipeline import AutoPipeline
from adapters.redis.client import RedisProbe, create_redis
from application.health.readiness import HealthProbe
from application.llm.health import LLMHealthProbe
from application.search.health import VectorIndexProbe
from entrypoints.settings import Settings


class RedisProvider(Provider):
    """Only installed when PARLEY_REDIS_URL is set."""

    @provide(scope=Scope.APP)
    async def redis(self, settings: Settings) -> AsyncIterator[Redis]:
        client = create_redis(
            settings.redis.url,
            settings.redis.socket_timeout_s,
            max_connections=settings.redis.max_connections,
            pool_wait_s=settings.redis.pool_wait_s,
            idle_close_s=settings.redis.idle_close_s,
        )
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def autopipeline(self, redis: Redis) -> AsyncIterator[AutoPipeline]:
        """The per-request checks' one connection (token, rate limit, quota)."""
        pipeline = AutoPipeline(redis)
        yield pipeline
        await pipeline.aclose()


class RedisHealthProvider(Provider):
    @provide(scope=Scope.APP)
    def probes(
        self,
        settings: Settings,
        engine: AsyncEngine,
        redis: Redis,
        llm: LLMHealthProbe,
        vector_index: VectorIndexProbe,
    ) -> list[HealthProbe]:
        return [DatabaseProbe(engine), RedisProbe(redis), llm, vector_index]
