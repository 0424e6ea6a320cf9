"""NotifyUser stores first and pushes second; a push that fails loses nothing (R30)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID, uuid4

import pytest

from application.notifications.notify_user import NotifyUser, NotifyUserCommand
from application.ports.event_bus import (
    EventBus,
    EventBusUnavailable,
    EventType,
    Subscriber,
    Subscription,
    UserEvent,
)
from application.ports.notifications import NotificationRepository
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import InvalidInput
from domain.notifications import Notification
from domain.pagination import Page
from tests.support.fake_uow import DirectUnitOfWork
from tests.unit.chat.fakes import FixedClock, RandomIds


class StagedNotifications(NotificationRepository):
    """Added rows become visible only when the unit of work commits."""

    def __init__(self) -> None:
        self.pending: list[Notification] = []
        self.committed: list[Notification] = []

    async def add(self, notification: Notification) -> None:
        self.pending.append(notification)

    async def get(self, notification_id: UUID, user_id: UUID) -> Notification | None:
        raise NotImplementedError

    async def page(
        self, user_id: UUID, *, limit: int, cursor: str | None = None, unread_only: bool = False
    ) -> Page[Notification]:
        raise NotImplementedError

    async def unread_count(self, user_id: UUID) -> int:
        raise NotImplementedError

    async def mark_read(self, user_id: UUID, ids: Collection[UUID] | None, now: datetime) -> int:
        raise NotImplementedError


class StagingUnitOfWork(DirectUnitOfWork):
    def __init__(self, repo: StagedNotifications) -> None:
        self.notifications = repo

    async def commit(self) -> None:
        await super().commit()
        self.notifications.committed += self.notifications.pending
        self.notifications.pending = []


class Factory(UnitOfWorkFactory):
    def __init__(self, repo: StagedNotifications) -> None:
        self.repo = repo

    def __call__(self) -> UnitOfWork:
        return StagingUnitOfWork(self.repo)


class RecordingBus(EventBus):
    """Remembers what was already committed when each event was published."""

    def __init__(self, repo: StagedNotifications, *, down: bool = False) -> None:
        self.repo = repo
        self.down = down
        self.published: list[tuple[UserEvent, list[UUID]]] = []

    async def publish(self, event: UserEvent) -> None:
        if self.down:
            raise EventBusUnavailable("redis is down")
        self.published.append((event, [n.id for n in self.repo.committed]))

    def subscribe(self, user_id: UUID, subscriber: Subscriber) -> Subscription:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def notify_user(repo: StagedNotifications, bus: EventBus) -> NotifyUser:
    return NotifyUser(Factory(repo), bus, FixedClock(), RandomIds())


async def test_the_notification_is_committed_before_it_is_pushed() -> None:
    repo = StagedNotifications()
    bus = RecordingBus(repo)
    user = uuid4()
    stored = await notify_user(repo, bus)(
        NotifyUserCommand(user, "job.finished", "Done", "It worked", {"job_id": "j"})
    )
    [(event, committed_then)] = bus.published
    assert committed_then == [stored.id]
    assert event.type is EventType.NOTIFICATION and event.user_id == user
    pushed = event.data["notification"]
    assert pushed["id"] == str(stored.id) and pushed["data"] == {"job_id": "j"}
    assert pushed["read"] is False and pushed["title"] == "Done"


async def test_a_failed_push_still_returns_the_stored_notification() -> None:
    repo = StagedNotifications()
    stored = await notify_user(repo, RecordingBus(repo, down=True))(
        NotifyUserCommand(uuid4(), "job.finished", "Done")
    )
    assert [n.id for n in repo.committed] == [stored.id]


async def test_a_notification_needs_a_kind_and_a_title() -> None:
    repo = StagedNotifications()
    bus = RecordingBus(repo)
    for kind, title in (("", "t"), ("k", "  "), ("k" * 65, "t")):
        with pytest.raises(InvalidInput):
            await notify_user(repo, bus)(NotifyUserCommand(uuid4(), kind, title))
    assert repo.committed == [] and bus.published == []
