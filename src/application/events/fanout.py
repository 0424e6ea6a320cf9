"""Routing by user inside one process: the part both event-bus adapters share.

Sockets subscribe per user; an event is handed to that user's subscribers only, so the cost
of an event is the number of sockets of its user here, not the number of sockets overall.
"""

from __future__ import annotations

import structlog

from application.ports.event_bus import Subscriber, Subscription, UserEvent

log = structlog.get_logger("parley.events")


class _Handle(Subscription):
    __slots__ = ("_fanout", "subscriber", "user_key")

    def __init__(self, fanout: LocalFanout, user_key: str, subscriber: Subscriber) -> None:
        self._fanout: LocalFanout | None = fanout
        self.user_key = user_key
        self.subscriber = subscriber

    def cancel(self) -> None:
        fanout, self._fanout = self._fanout, None
        if fanout is not None:
            fanout.remove(self)


class LocalFanout:
    def __init__(self) -> None:
        self._by_user: dict[str, list[_Handle]] = {}

    def __len__(self) -> int:
        return sum(len(handles) for handles in self._by_user.values())

    def add(self, user_key: str, subscriber: Subscriber) -> Subscription:
        handle = _Handle(self, user_key, subscriber)
        self._by_user.setdefault(user_key, []).append(handle)
        return handle

    def remove(self, handle: _Handle) -> None:
        handles = self._by_user.get(handle.user_key)
        if handles is None:
            return
        try:
            handles.remove(handle)
        except ValueError:
            return
        if not handles:
            del self._by_user[handle.user_key]

    def deliver(self, user_key: str, event: UserEvent) -> int:
        """Hand ``event`` to the user's subscribers here; how many got it."""
        handles = self._by_user.get(user_key)
        if not handles:
            return 0
        for handle in tuple(handles):  # a subscriber may cancel itself while called
            try:
                handle.subscriber(event)
            except Exception:
                log.exception("event_subscriber_failed", type=event.type.value)
        return len(handles)
