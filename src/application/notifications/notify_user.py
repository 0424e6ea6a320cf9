"""Tell a user something: store the notification, then push it to their open sockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.events.push import push
from application.notifications.views import notification_data
from application.ports.clock import Clock
from application.ports.event_bus import EventBus, EventType, UserEvent
from application.ports.ids import IdGenerator
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.notifications import Notification, new_notification


@dataclass(frozen=True, slots=True)
class NotifyUserCommand:
    user_id: UUID
    kind: str
    """What it is about, e.g. ``job.finished``."""
    title: str
    body: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    """Plain JSON data; ``job_id`` for jobs."""


class NotifyUser:
    """Business rules:
    - the notification is committed before anything is pushed: a push that is lost
      (no socket open, the bus down or reconnecting) loses nothing, the list has it;
    - the push goes to every open socket of the user on any instance, as the stored
      notification; a failed push is logged, never raised: the notification exists;
    - it runs in its own transaction, so it works from a request, a job or the CLI.
    """

    def __init__(
        self, uow_factory: UnitOfWorkFactory, bus: EventBus, clock: Clock, ids: IdGenerator
    ) -> None:
        self._uow_factory = uow_factory
        self._bus = bus
        self._clock = clock
        self._ids = ids

    async def __call__(self, command: NotifyUserCommand) -> Notification:
        notification = new_notification(
            id=self._ids.new_id(),
            user_id=command.user_id,
            kind=command.kind,
            title=command.title,
            body=command.body,
            data=command.data,
            now=self._clock.now(),
        )
        async with self._uow_factory() as uow:
            await uow.notifications.add(notification)
            await uow.commit()
        event = UserEvent(
            EventType.NOTIFICATION,
            command.user_id,
            {"notification": notification_data(notification)},
        )
        await push(
            self._bus,
            event,
            not_pushed="notification_not_pushed",
            notification_id=str(notification.id),
        )
        return notification
