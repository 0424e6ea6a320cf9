"""In-process event bus: the embedded default, where one process holds every socket."""

from __future__ import annotations

from uuid import UUID

from application.events.fanout import LocalFanout
from application.ports.event_bus import EventBus, Subscriber, Subscription, UserEvent


class MemoryEventBus(EventBus):
    """Delivers synchronously to this process's subscribers of the event's user."""

    def __init__(self) -> None:
        self._fanout = LocalFanout()

    async def publish(self, event: UserEvent) -> None:
        self._fanout.deliver(str(event.user_id), event)

    def subscribe(self, user_id: UUID, subscriber: Subscriber) -> Subscription:
        return self._fanout.add(str(user_id), subscriber)

    async def aclose(self) -> None:
        return None
