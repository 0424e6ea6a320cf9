"""The ``jobs`` table: the record of every background job, which the queue only delivers.

``lease_owner`` / ``lease_until`` are set while an attempt runs: its worker renews the lease
on every heartbeat, and a lapsed lease tells the next delivery that the worker died.
``params``, ``result`` and ``error`` are JSON text, identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.models.base import UUIDBase
from adapters.persistence.types import DateTimeUTC

QUEUED_ONLY = text("status = 'queued'")
RUNNING_ONLY = text("status = 'running'")


class JobRow(UUIDBase):
    __tablename__ = "jobs"
    __table_args__ = (
        # "my jobs, newest first" with keyset pagination.
        Index("ix_jobs_owner_id_created_at", "owner_id", "created_at", "id"),
        Index(
            "ix_jobs_queued", "created_at", postgresql_where=QUEUED_ONLY, sqlite_where=QUEUED_ONLY
        ),
        Index(
            "ix_jobs_running_lease",
            "lease_until",
            postgresql_where=RUNNING_ONLY,
            sqlite_where=RUNNING_ONLY,
        ),
    )

    owner_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    params: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    visible: Mapped[bool] = mapped_column(Boolean, default=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
