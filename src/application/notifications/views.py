"""The public shape of a notification, the same over REST, WebSocket frames and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.notifications import Notification


class NotificationView(msgspec.Struct):
    id: UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read: bool
    created_at: datetime


def notification_view(notification: Notification) -> NotificationView:
    return NotificationView(
        id=notification.id,
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        data=notification.data,
        read=notification.read,
        created_at=notification.created_at,
    )


def notification_data(notification: Notification) -> dict[str, Any]:
    """The notification as plain JSON data (for the event bus)."""
    data: dict[str, Any] = msgspec.to_builtins(notification_view(notification))
    return data
