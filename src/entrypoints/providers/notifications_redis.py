"""The event bus on Redis pub/sub (pushes reach sockets on any instance), wired only when
PARLEY_REDIS_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, decorate, provide
from redis.asyncio import Redis

from adapters.redis.event_bus import EventBusProbe, RedisEventBus
from application.health.readiness import HealthProbe
from application.ports.event_bus import EventBus
from entrypoints.settings import Settings


class RedisEventBusProvider(Provider):
    @provide(scope=Scope.APP)
    async def redis_bus(self, settings: Settings, redis: Redis) -> AsyncIterator[RedisEventBus]:
        bus = RedisEventBus(redis, settings.redis.key_prefix)
        yield bus
        await bus.aclose()

    @provide(scope=Scope.APP)
    def bus(self, bus: RedisEventBus) -> EventBus:
        return bus

    @decorate(scope=Scope.APP)
    def probes(self, probes: list[HealthProbe], bus: RedisEventBus) -> list[HealthProbe]:
        return [*probes, EventBusProbe(bus)]
