"""Stored notifications, always read and changed through their owner."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.notifications import Notification
from domain.pagination import Page


class NotificationRepository(Protocol):
    @abstractmethod
    async def add(self, notification: Notification) -> None: ...

    @abstractmethod
    async def get(self, notification_id: UUID, user_id: UUID) -> Notification | None: ...

    @abstractmethod
    async def page(
        self, user_id: UUID, *, limit: int, cursor: str | None = None, unread_only: bool = False
    ) -> Page[Notification]:
        """Newest first; ``cursor`` is the previous page's ``next_cursor``."""

    @abstractmethod
    async def unread_count(self, user_id: UUID) -> int: ...

    @abstractmethod
    async def mark_read(self, user_id: UUID, ids: Collection[UUID] | None, now: datetime) -> int:
        """Mark the user's notifications among ``ids`` (all of them: None) read; ids that
        are not the user's are ignored. How many changed."""
