"""List the caller's notifications, newest first, with how many are unread."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.unit_of_work import UnitOfWork
from domain.notifications import Notification, NotificationNotFound
from domain.pagination import page_size


@dataclass(frozen=True, slots=True)
class ListNotificationsQuery:
    user_id: UUID
    unread: bool = False
    limit: int | None = None
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[Notification]
    unread_count: int
    next_cursor: str | None


class ListNotifications:
    """Business rules:
    - only the caller's notifications, newest first; ``unread`` keeps the unread ones;
    - ``limit`` defaults to 20 and is capped at 100;
    - ``unread_count`` counts all of the caller's unread ones, whatever the page.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: ListNotificationsQuery) -> NotificationPage:
        async with self._uow as uow:
            page = await uow.notifications.page(
                query.user_id,
                limit=page_size(query.limit),
                cursor=query.cursor,
                unread_only=query.unread,
            )
            unread = await uow.notifications.unread_count(query.user_id)
        return NotificationPage(page.items, unread, page.next_cursor)


class GetNotification:
    """Business rules: only the owner sees it; anyone else gets "not found"."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, user_id: UUID, notification_id: UUID) -> Notification:
        async with self._uow as uow:
            found = await uow.notifications.get(notification_id, user_id)
        if found is None:
            raise NotificationNotFound(f"notification {notification_id} not found")
        return found
