"""Usage aggregates through SQLAlchemy: additive upserts (ON CONFLICT), the same SQL shape
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models.chat import ConversationRow
from adapters.persistence.models.identity import ApiKeyRow, UserRow
from adapters.persistence.models.usage import RouteStatsDailyRow, UsageDailyRow
from application.ports.usage_ledger import (
    PlatformCounts,
    RouteStatsRepository,
    UsageRepository,
    UserCounts,
)
from domain.route_stats import RouteStats
from domain.usage import UsageEntry, UsageTotals

NO_KEY = UUID(int=0)
_NANO = Decimal("1e9")


def to_nano(cost: Decimal) -> int:
    return int((cost * _NANO).to_integral_value(rounding=ROUND_HALF_UP))


def from_nano(nano: int) -> Decimal:
    return Decimal(nano) / _NANO


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class SqlUsageRepository(UsageRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entries: Sequence[UsageEntry]) -> None:
        if not entries:
            return
        table = UsageDailyRow.__table__
        stmt = _insert(self._session, table)
        added = ("messages", "prompt_tokens", "completion_tokens", "cost_nano_usd")
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "day", "model", "api_key_id"],
            set_={c: table.c[c] + stmt.excluded[c] for c in added},
        )
        # A fixed order keeps concurrent flushes from deadlocking on PostgreSQL.
        rows = sorted((_row(e) for e in entries), key=_row_key)
        await self._session.execute(stmt, rows)

    async def entries(self, user_id: UUID, start: date, end: date) -> list[UsageEntry]:
        result = await self._session.scalars(
            select(UsageDailyRow)
            .where(
                UsageDailyRow.user_id == user_id,
                UsageDailyRow.day >= start,
                UsageDailyRow.day <= end,
            )
            .order_by(UsageDailyRow.day, UsageDailyRow.model)
        )
        return [_entry(r) for r in result]

    async def totals_since(self, user_id: UUID, start: date) -> UsageTotals:
        row = (
            await self._session.execute(
                _sums().where(UsageDailyRow.user_id == user_id, UsageDailyRow.day >= start)
            )
        ).one()
        return _totals(row)

    async def platform_counts(self) -> PlatformCounts:
        session = self._session
        users = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((UserRow.is_active, 1), else_=0)), 0),
                ).select_from(UserRow)
            )
        ).one()
        conversations = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(ConversationRow.message_count), 0))
            )
        ).one()
        usage = (await session.execute(_sums())).one()
        return PlatformCounts(
            users=int(users[0]),
            active_users=int(users[1]),
            conversations=int(conversations[0]),
            messages=int(conversations[1]),
            usage=_totals(usage),
        )

    async def user_counts(self, user_id: UUID) -> UserCounts:
        conversations = (
            await self._session.execute(
                select(
                    func.count(), func.coalesce(func.sum(ConversationRow.message_count), 0)
                ).where(ConversationRow.owner_id == user_id)
            )
        ).one()
        keys = await self._session.scalar(
            select(func.count()).select_from(ApiKeyRow).where(ApiKeyRow.user_id == user_id)
        )
        return UserCounts(int(conversations[0]), int(conversations[1]), int(keys or 0))


class SqlRouteStatsRepository(RouteStatsRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, instance: str, stats: Sequence[RouteStats]) -> None:
        if not stats:
            return
        table = RouteStatsDailyRow.__table__
        stmt = _insert(self._session, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "instance", "method", "route"],
            set_={c: stmt.excluded[c] for c in ("requests", "errors", "buckets", "updated_at")},
        )
        now = datetime.now(UTC)
        rows = [
            {
                "day": s.day,
                "instance": instance,
                "method": s.method,
                "route": s.route,
                "requests": s.requests,
                "errors": s.errors,
                "buckets": s.encode_buckets(),
                "updated_at": now,
            }
            for s in sorted(stats, key=lambda s: (s.day, s.method, s.route))
        ]
        await self._session.execute(stmt, rows)

    async def load(self, start: date, end: date) -> list[RouteStats]:
        result = await self._session.scalars(
            select(RouteStatsDailyRow).where(
                RouteStatsDailyRow.day >= start, RouteStatsDailyRow.day <= end
            )
        )
        return [
            RouteStats(
                r.day, r.method, r.route, r.requests, r.errors, RouteStats.decode_buckets(r.buckets)
            )
            for r in result
        ]


def _sums() -> Any:
    return select(
        func.coalesce(func.sum(UsageDailyRow.messages), 0),
        func.coalesce(func.sum(UsageDailyRow.prompt_tokens), 0),
        func.coalesce(func.sum(UsageDailyRow.completion_tokens), 0),
        func.coalesce(func.sum(UsageDailyRow.cost_nano_usd), 0),
    )


def _totals(row: Any) -> UsageTotals:
    return UsageTotals(int(row[0]), int(row[1]), int(row[2]), from_nano(int(row[3])))


def _row(e: UsageEntry) -> dict[str, Any]:
    return {
        "user_id": e.user_id,
        "day": e.day,
        "model": e.model,
        "api_key_id": e.api_key_id or NO_KEY,
        "messages": e.totals.messages,
        "prompt_tokens": e.totals.prompt_tokens,
        "completion_tokens": e.totals.completion_tokens,
        "cost_nano_usd": to_nano(e.totals.cost_usd),
    }


def _row_key(row: dict[str, Any]) -> tuple[str, date, str, str]:
    return (str(row["user_id"]), row["day"], row["model"], str(row["api_key_id"]))


def _entry(r: UsageDailyRow) -> UsageEntry:
    return UsageEntry(
        day=r.day,
        user_id=r.user_id,
        model=r.model,
        api_key_id=None if r.api_key_id == NO_KEY else r.api_key_id,
        totals=UsageTotals(
            r.messages, r.prompt_tokens, r.completion_tokens, from_nano(r.cost_nano_usd)
        ),
    )
