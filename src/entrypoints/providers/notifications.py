"""Event bus (in-process or Redis pub/sub), the notification use cases, and revocations
pushed to open sockets over the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, decorate, provide, provide_all

from adapters.memory.event_bus import MemoryEventBus
from adapters.memory.health import InProcessProbe
from application.events.message_completed import MessageCompletedListener
from application.health.readiness import HealthProbe
from application.identity.revocation_push import RevocationPushingTokenStore
from application.notifications.list_notifications import GetNotification, ListNotifications
from application.notifications.mark_read import MarkNotificationsRead
from application.notifications.notify_user import NotifyUser
from application.ports.event_bus import EventBus
from application.ports.token_store import TokenStore
from application.ports.turn_hooks import TurnSeams
from entrypoints.settings import Settings


class MemoryEventBusProvider(Provider):
    @provide(scope=Scope.APP)
    async def bus(self) -> AsyncIterator[EventBus]:
        bus = MemoryEventBus()
        yield bus
        await bus.aclose()

    @decorate(scope=Scope.APP)
    def probes(self, probes: list[HealthProbe]) -> list[HealthProbe]:
        return [*probes, InProcessProbe("events")]


class NotificationsProvider(Provider):
    # APP scope: it opens its own unit of work, so jobs and the CLI call it outside requests.
    notify = provide(NotifyUser, scope=Scope.APP)
    use_cases = provide_all(
        ListNotifications, GetNotification, MarkNotificationsRead, scope=Scope.REQUEST
    )

    @decorate(scope=Scope.APP)
    def announce_replies(self, seams: TurnSeams, bus: EventBus) -> TurnSeams:
        return seams.with_listener(MessageCompletedListener(bus))

    @decorate(scope=Scope.APP)
    def push_revocations(self, store: TokenStore, bus: EventBus) -> TokenStore:
        return RevocationPushingTokenStore(store, bus)


def providers(settings: Settings) -> list[Provider]:
    bus: Provider = MemoryEventBusProvider()
    if settings.redis.url:
        from entrypoints.providers.notifications_redis import RedisEventBusProvider

        bus = RedisEventBusProvider()
    return [bus, NotificationsProvider()]
