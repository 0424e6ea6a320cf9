"""Event bus (in-process or Redis pub/sub) and the notification use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide, provide_all
from redis.asyncio import Redis

from adapters.memory.event_bus import MemoryEventBus
from adapters.redis.event_bus import RedisEventBus
from application.notifications.list_notifications import GetNotification, ListNotifications
from application.notifications.mark_read import MarkNotificationsRead
from application.notifications.notify_user import NotifyUser
from application.ports.event_bus import EventBus
from entrypoints.settings import Settings


class MemoryEventBusProvider(Provider):
    @provide(scope=Scope.APP)
    async def bus(self) -> AsyncIterator[EventBus]:
        bus = MemoryEventBus()
        yield bus
        await bus.aclose()


class RedisEventBusProvider(Provider):
    @provide(scope=Scope.APP)
    async def bus(self, settings: Settings, redis: Redis) -> AsyncIterator[EventBus]:
        bus = RedisEventBus(redis, settings.redis.key_prefix)
        yield bus
        await bus.aclose()


class NotificationsProvider(Provider):
    # APP scope: it opens its own unit of work, so jobs and the CLI call it outside requests.
    notify = provide(NotifyUser, scope=Scope.APP)
    use_cases = provide_all(
        ListNotifications, GetNotification, MarkNotificationsRead, scope=Scope.REQUEST
    )


def providers(settings: Settings) -> list[Provider]:
    bus: Provider = RedisEventBusProvider() if settings.redis.url else MemoryEventBusProvider()
    return [bus, NotificationsProvider()]
