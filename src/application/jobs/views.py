"""The public shape of a job, shared by the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.jobs import Job


class JobErrorView(msgspec.Struct):
    code: str
    detail: str


class JobView(msgspec.Struct):
    id: UUID
    kind: str
    status: str
    progress: float
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: JobErrorView | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool = False
    """The owner asked to cancel; a running job stops at its next heartbeat."""


def job_view(job: Job) -> JobView:
    error = JobErrorView(job.error.code, job.error.detail) if job.error else None
    return JobView(
        id=job.id,
        kind=job.kind,
        status=job.status.value,
        progress=round(job.progress, 4),
        params=job.params,
        result=job.result,
        error=error,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        cancel_requested=job.cancel_requested and not job.status.finished,
    )
