"""The generation log on Redis Streams (resumable on any instance), wired only when
PARLEY_REDIS_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from adapters.redis.client import create_redis
from adapters.redis.generation_log import RedisGenerationLog
from application.chat.local_first_log import LocalFirstGenerationLog
from application.ports.generation_log import GenerationLog
from entrypoints.settings import Settings


class RedisGenerationLogProvider(Provider):
    @provide(scope=Scope.APP)
    async def log(self, settings: Settings, redis: Redis) -> AsyncIterator[GenerationLog]:
        readers = create_redis(
            settings.redis.url,
            settings.redis.socket_timeout_s,
            max_connections=settings.redis.max_stream_readers,
            pool_wait_s=settings.redis.pool_wait_s,
            idle_close_s=settings.redis.idle_close_s,
        )
        log = RedisGenerationLog(
            redis,
            readers=readers,
            prefix=settings.redis.key_prefix,
            ttl_s=settings.chat.generation_log_ttl_s,
            max_events=settings.chat.generation_log_max_events,
            # Block for less than the socket timeout, or every idle read would time out.
            block_ms=max(50, int(settings.redis.socket_timeout_s * 500)),
            cancel_poll_s=settings.chat.cancel_poll_s,
        )
        # Replies run here reach their own clients even while Redis is down.
        local_first = LocalFirstGenerationLog(log)
        yield local_first
        await local_first.aclose()
        await readers.aclose()
