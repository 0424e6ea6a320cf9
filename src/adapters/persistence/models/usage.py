"""Usage tables: ``usage_daily`` (spending) and ``route_stats_daily`` (request statistics).

Both are compact aggregates: a request adds to its day's row instead of adding a row.
Costs are integers of 1e-9 USD (``cost_nano_usd``), exact on every backend, as in
``messages``. ``usage_daily.api_key_id`` is the nil UUID for signed-in sessions, because a
NULL in a primary key would make every session request a distinct row.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.models.base import DefaultBase
from adapters.persistence.types import GUID, DateTimeUTC


class UsageDailyRow(DefaultBase):
    __tablename__ = "usage_daily"

    user_id: Mapped[UUID] = mapped_column(
        GUID(length=16), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    api_key_id: Mapped[UUID] = mapped_column(GUID(length=16), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_nano_usd: Mapped[int] = mapped_column(BigInteger, default=0)


class RouteStatsDailyRow(DefaultBase):
    """One process's view of one route on one day; readers add the processes up."""

    __tablename__ = "route_stats_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    instance: Mapped[str] = mapped_column(String(32), primary_key=True)
    method: Mapped[str] = mapped_column(String(10), primary_key=True)
    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    buckets: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
