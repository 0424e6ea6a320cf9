"""Notification repository: every query is scoped to the owner; keyset pages newest first."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models.notifications import NotificationRow
from adapters.persistence.repositories.cursors import decode_time_cursor, encode_time_cursor
from adapters.persistence.repositories.results import rowcount
from application.ports.notifications import NotificationRepository
from domain.notifications import Notification
from domain.pagination import Page


class SqlNotificationRepository(NotificationRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, notification: Notification) -> None:
        self._session.add(
            NotificationRow(
                id=notification.id,
                user_id=notification.user_id,
                kind=notification.kind,
                title=notification.title,
                body=notification.body,
                data=notification.data,
                read_at=notification.created_at if notification.read else None,
                created_at=notification.created_at,
            )
        )

    async def get(self, notification_id: UUID, user_id: UUID) -> Notification | None:
        n = NotificationRow
        row = await self._session.scalar(
            select(n).where(n.id == notification_id, n.user_id == user_id)
        )
        return _notification(row) if row is not None else None

    async def page(
        self, user_id: UUID, *, limit: int, cursor: str | None = None, unread_only: bool = False
    ) -> Page[Notification]:
        n = NotificationRow
        stmt = select(n).where(n.user_id == user_id)
        if unread_only:
            stmt = stmt.where(n.read_at.is_(None))
        if cursor is not None:
            created_at, last_id = decode_time_cursor(cursor)
            stmt = stmt.where(
                or_(n.created_at < created_at, and_(n.created_at == created_at, n.id < last_id))
            )
        stmt = stmt.order_by(n.created_at.desc(), n.id.desc()).limit(limit + 1)
        rows = list(await self._session.scalars(stmt))
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_time_cursor(last.created_at, last.id)
        return Page([_notification(r) for r in rows[:limit]], next_cursor)

    async def unread_count(self, user_id: UUID) -> int:
        n = NotificationRow
        count = await self._session.scalar(
            select(func.count()).where(n.user_id == user_id, n.read_at.is_(None))
        )
        return int(count or 0)

    async def mark_read(self, user_id: UUID, ids: Collection[UUID] | None, now: datetime) -> int:
        n = NotificationRow
        stmt = update(n).where(n.user_id == user_id, n.read_at.is_(None))
        if ids is not None:
            if not ids:
                return 0
            stmt = stmt.where(n.id.in_(list(ids)))
        result = await self._session.execute(
            stmt.values(read_at=now).execution_options(synchronize_session=False)
        )
        return rowcount(result)


def _notification(row: NotificationRow) -> Notification:
    return Notification(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        created_at=row.created_at,
        data=dict(row.data or {}),
        read=row.read_at is not None,
    )
