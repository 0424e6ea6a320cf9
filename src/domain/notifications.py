"""A notification: something a user is told about (a finished job, ...), stored before it is
pushed, so a client that was offline finds it in the list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import InvalidInput, NotFound

MAX_KIND_CHARS = 64
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 4000


class NotificationNotFound(NotFound):
    """Missing, or someone else's: both look the same to the caller (never 403)."""

    code = "NOTIFICATION_NOT_FOUND"
    title = "Notification not found"


@dataclass(slots=True)
class Notification:
    id: UUID
    user_id: UUID
    kind: str
    title: str
    body: str
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    read: bool = False


def new_notification(
    *,
    id: UUID,
    user_id: UUID,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any],
    now: datetime,
) -> Notification:
    """An unread notification; ``kind`` and ``title`` are required and bounded."""
    kind, title = kind.strip(), title.strip()
    if not kind or len(kind) > MAX_KIND_CHARS:
        raise InvalidInput(f"a notification kind is 1..{MAX_KIND_CHARS} characters")
    if not title or len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"a notification title is 1..{MAX_TITLE_CHARS} characters")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(f"a notification body is at most {MAX_BODY_CHARS} characters")
    return Notification(id, user_id, kind, title, body, now, dict(data))
