"""Health history tables: ``health_check_slots`` (who took each periodic slot) and
``health_checks`` (one row per slot and component)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.models.base import DefaultBase
from adapters.persistence.types import DateTimeUTC


class HealthCheckSlotRow(DefaultBase):
    """The primary key is the claim: the first instance to insert a slot runs its check."""

    __tablename__ = "health_check_slots"

    slot_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), primary_key=True)
    instance: Mapped[str] = mapped_column(String(32))


class HealthCheckRow(DefaultBase):
    __tablename__ = "health_checks"

    slot_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), primary_key=True)
    component: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    latency_ms: Mapped[float] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
