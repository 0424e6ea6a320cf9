"""The jobs repository: rows in, domain jobs out; conditional claims and finishes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models.jobs import JobRow
from adapters.persistence.repositories.cursors import decode_time_cursor, encode_time_cursor
from adapters.persistence.repositories.results import rowcount
from adapters.persistence.types import DateTimeUTC
from application.ports.jobs import JobRepository, QueueDepth
from domain.jobs import Job, JobError, JobStatus
from domain.pagination import Page

QUEUED = JobStatus.QUEUED.value
RUNNING = JobStatus.RUNNING.value


class SqlJobRepository(JobRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, job: Job) -> None:
        self._session.add(
            JobRow(
                id=job.id,
                owner_id=job.owner_id,
                kind=job.kind,
                status=job.status.value,
                progress=job.progress,
                params=json.dumps(job.params),
                result=None,
                attempts=job.attempts,
                visible=job.visible,
                cancel_requested=False,
                created_at=job.created_at,
            )
        )
        await self._session.flush()

    async def get(self, job_id: UUID) -> Job | None:
        row = await self._session.get(JobRow, job_id, populate_existing=True)
        return _job(row) if row is not None else None

    async def page(
        self,
        owner_id: UUID,
        *,
        limit: int,
        cursor: str | None = None,
        status: JobStatus | None = None,
        kind: str | None = None,
    ) -> Page[Job]:
        j = JobRow
        stmt = select(j).where(j.owner_id == owner_id, j.visible.is_(True))
        if status is not None:
            stmt = stmt.where(j.status == status.value)
        if kind is not None:
            stmt = stmt.where(j.kind == kind)
        if cursor is not None:
            created_at, last_id = decode_time_cursor(cursor)
            stmt = stmt.where(
                or_(j.created_at < created_at, and_(j.created_at == created_at, j.id < last_id))
            )
        rows = list(
            await self._session.scalars(
                stmt.order_by(j.created_at.desc(), j.id.desc()).limit(limit + 1)
            )
        )
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_time_cursor(last.created_at, last.id)
        return Page([_job(r) for r in rows[:limit]], next_cursor)

    async def count_since(self, owner_id: UUID, since: datetime) -> int:
        j = JobRow
        count = await self._session.scalar(
            select(func.count()).where(
                j.owner_id == owner_id, j.visible.is_(True), j.created_at >= since
            )
        )
        return int(count or 0)

    async def claim(
        self, job_id: UUID, worker_id: str, *, now: datetime, lease_until: datetime
    ) -> Job | None:
        j = JobRow
        claimed = await self._session.scalar(
            update(j)
            .where(
                j.id == job_id,
                or_(j.status == QUEUED, and_(j.status == RUNNING, j.lease_until < now)),
            )
            .values(
                status=RUNNING,
                attempts=j.attempts + 1,
                lease_owner=worker_id,
                lease_until=lease_until,
                started_at=func.coalesce(j.started_at, now),
            )
            .returning(j)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return _job(claimed) if claimed is not None else None

    async def renew(self, job_id: UUID, worker_id: str, lease_until: datetime) -> bool | None:
        j = JobRow
        cancel = await self._session.scalar(
            update(j)
            .where(j.id == job_id, j.status == RUNNING, j.lease_owner == worker_id)
            .values(lease_until=lease_until)
            .returning(j.cancel_requested)
            .execution_options(synchronize_session=False)
        )
        return None if cancel is None else bool(cancel)

    async def set_progress(self, job_id: UUID, worker_id: str, progress: float) -> None:
        j = JobRow
        await self._session.execute(
            update(j)
            .where(j.id == job_id, j.status == RUNNING, j.lease_owner == worker_id)
            .values(progress=progress)
            .execution_options(synchronize_session=False)
        )

    async def finish(
        self,
        job_id: UUID,
        worker_id: str | None,
        status: JobStatus,
        *,
        now: datetime,
        result: dict[str, Any] | None = None,
        error: JobError | None = None,
    ) -> Job | None:
        j = JobRow
        held = (
            j.status == QUEUED
            if worker_id is None
            else and_(j.status == RUNNING, j.lease_owner == worker_id)
        )
        values: dict[str, Any] = {
            "status": status.value,
            "finished_at": now,
            "lease_owner": None,
            "lease_until": None,
            "result": json.dumps(result) if result is not None else None,
        }
        if status is JobStatus.SUCCEEDED:
            values |= {"progress": 1.0, "error_code": None, "error_detail": None}
        if error is not None:
            values |= {"error_code": error.code, "error_detail": error.detail}
        finished = await self._session.scalar(
            update(j)
            .where(j.id == job_id, held)
            .values(**values)
            .returning(j)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return _job(finished) if finished is not None else None

    async def release(
        self, job_id: UUID, worker_id: str, *, error: JobError | None, refund_attempt: bool
    ) -> bool:
        j = JobRow
        values: dict[str, Any] = {"status": QUEUED, "lease_owner": None, "lease_until": None}
        if refund_attempt:
            values["attempts"] = j.attempts - 1
        if error is not None:
            values |= {"error_code": error.code, "error_detail": error.detail}
        outcome = await self._session.execute(
            update(j)
            .where(j.id == job_id, j.status == RUNNING, j.lease_owner == worker_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(outcome) > 0

    async def request_cancel(self, job_id: UUID) -> None:
        await self._session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status.in_((QUEUED, RUNNING)))
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )

    async def recoverable(self, *, now: datetime, queued_before: datetime, limit: int) -> list[Job]:
        j = JobRow
        rows = await self._session.scalars(
            select(j)
            .where(
                or_(
                    and_(j.status == QUEUED, j.created_at <= queued_before),
                    and_(j.status == RUNNING, j.lease_until < now),
                )
            )
            .order_by(j.created_at)
            .limit(limit)
        )
        return [_job(r) for r in rows]

    async def depth(self) -> QueueDepth:
        j = JobRow
        count, oldest = (
            await self._session.execute(
                select(
                    func.count(), func.min(j.created_at, type_=DateTimeUTC(timezone=True))
                ).where(j.status == QUEUED)
            )
        ).one()
        return QueueDepth(int(count or 0), oldest)


def _job(row: JobRow) -> Job:
    error = JobError(row.error_code, row.error_detail or "") if row.error_code else None
    return Job(
        id=row.id,
        owner_id=row.owner_id,
        kind=row.kind,
        params=json.loads(row.params),
        created_at=row.created_at,
        status=JobStatus(row.status),
        progress=row.progress,
        result=json.loads(row.result) if row.result is not None else None,
        error=error,
        attempts=row.attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        visible=row.visible,
        cancel_requested=row.cancel_requested,
    )
