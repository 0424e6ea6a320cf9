"""``notifications``: what a user was told, newest first; ``read_at`` is NULL while unread."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.models.base import UUIDBase
from adapters.persistence.types import GUID, DateTimeUTC

UNREAD_ONLY = text("read_at IS NULL")


class NotificationRow(UUIDBase):
    __tablename__ = "notifications"
    __table_args__ = (
        # The list, newest first, with keyset pagination; the partial one serves
        # ``unread=true`` and ``unread_count`` without reading what was already read.
        Index("ix_notifications_user_id_created_at", "user_id", "created_at", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            "created_at",
            postgresql_where=UNREAD_ONLY,
            sqlite_where=UNREAD_ONLY,
        ),
    )

    user_id: Mapped[UUID] = mapped_column(
        GUID(length=16), ForeignKey("users.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    read_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
