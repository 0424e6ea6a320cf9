"""Health history through SQLAlchemy; the slot claim is an INSERT ... ON CONFLICT DO NOTHING,
the same statement on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.models.health import HealthCheckRow, HealthCheckSlotRow
from adapters.persistence.uow import translate_storage_error
from application.ports.health_history import HealthHistoryStore
from domain.health_history import HealthCheck

T = TypeVar("T")


class SqlHealthHistoryStore(HealthHistoryStore):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def claim(self, slot_at: datetime, instance: str) -> bool:
        async def work(session: AsyncSession) -> bool:
            table = HealthCheckSlotRow.__table__
            dialect = session.get_bind().dialect.name
            insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
            result: Any = await session.execute(
                insert(table)
                .values(slot_at=slot_at, instance=instance)
                .on_conflict_do_nothing(index_elements=["slot_at"])
            )
            return bool(result.rowcount == 1)

        return await self._run(work)

    async def record(self, checks: Sequence[HealthCheck]) -> None:
        async def work(session: AsyncSession) -> None:
            session.add_all(
                HealthCheckRow(
                    slot_at=c.at,
                    component=c.component,
                    status=c.status,
                    latency_ms=c.latency_ms,
                    detail=(c.detail or None) and c.detail[:500],
                )
                for c in checks
            )

        await self._run(work)

    async def prune(self, before: datetime) -> int:
        async def work(session: AsyncSession) -> int:
            gone: Any = await session.execute(
                delete(HealthCheckRow).where(HealthCheckRow.slot_at < before)
            )
            await session.execute(
                delete(HealthCheckSlotRow).where(HealthCheckSlotRow.slot_at < before)
            )
            return int(gone.rowcount or 0)

        return await self._run(work)

    async def since(self, start: datetime) -> list[HealthCheck]:
        async def work(session: AsyncSession) -> list[HealthCheck]:
            rows = await session.scalars(
                select(HealthCheckRow)
                .where(HealthCheckRow.slot_at >= start)
                .order_by(HealthCheckRow.slot_at, HealthCheckRow.component)
            )
            return [
                HealthCheck(r.slot_at, r.component, r.status, r.latency_ms, r.detail) for r in rows
            ]

        return await self._run(work)

    async def _run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        try:
            async with self._sessions() as session, session.begin():
                return await work(session)
        except Exception as exc:
            translated = translate_storage_error(exc)
            if translated is None:
                raise
            raise translated from exc
