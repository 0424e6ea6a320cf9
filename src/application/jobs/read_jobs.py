"""ListJobs and GetJob: the caller's own visible jobs only."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.unit_of_work import UnitOfWork
from domain.jobs import Job, JobNotFound, JobStatus
from domain.pagination import Page, page_size


async def owned_job(uow: UnitOfWork, owner_id: UUID, job_id: UUID) -> Job:
    job = await uow.jobs.get(job_id)
    if job is None or not job.is_owned_by(owner_id) or not job.visible:
        raise JobNotFound("no such job")
    return job


@dataclass(frozen=True, slots=True)
class ListJobsQuery:
    owner_id: UUID
    limit: int | None = None
    cursor: str | None = None
    status: JobStatus | None = None
    kind: str | None = None


class ListJobs:
    """Business rules: newest first; only the caller's visible jobs; bounded pages."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: ListJobsQuery) -> Page[Job]:
        async with self._uow as uow:
            return await uow.jobs.page(
                query.owner_id,
                limit=page_size(query.limit),
                cursor=query.cursor,
                status=query.status,
                kind=query.kind,
            )


class GetJob:
    """Business rules: someone else's job, or an internal one, is "not found"."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, owner_id: UUID, job_id: UUID) -> Job:
        async with self._uow as uow:
            return await owned_job(uow, owner_id, job_id)
