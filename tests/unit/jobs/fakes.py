"""An in-memory jobs repository with the port's conditional semantics, and test handlers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from application.jobs.handlers import JobContext, JobHandler
from application.ports.job_events import JobFinishedListener, JobMetrics
from application.ports.jobs import JobRepository, QueueDepth
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import Unavailable
from domain.jobs import Job, JobError, JobStatus
from domain.pagination import Page
from tests.support.fake_uow import DirectUnitOfWork


@dataclasses.dataclass
class Lease:
    owner: str
    until: datetime


class FakeJobs(JobRepository):
    def __init__(self) -> None:
        self.jobs: dict[UUID, Job] = {}
        self.leases: dict[UUID, Lease] = {}

    async def add(self, job: Job) -> None:
        self.jobs[job.id] = dataclasses.replace(job)

    async def get(self, job_id: UUID) -> Job | None:
        job = self.jobs.get(job_id)
        return dataclasses.replace(job) if job else None

    async def page(
        self,
        owner_id: UUID,
        *,
        limit: int,
        cursor: str | None = None,
        status: JobStatus | None = None,
        kind: str | None = None,
    ) -> Page[Job]:
        mine = [j for j in self.jobs.values() if j.owner_id == owner_id and j.visible]
        return Page(sorted(mine, key=lambda j: j.created_at, reverse=True)[:limit])

    async def count_since(self, owner_id: UUID, since: datetime) -> int:
        return sum(1 for j in self.jobs.values() if j.owner_id == owner_id and j.visible)

    async def claim(
        self, job_id: UUID, worker_id: str, *, now: datetime, lease_until: datetime
    ) -> Job | None:
        job = self.jobs.get(job_id)
        if job is None:
            return None
        lease = self.leases.get(job_id)
        lapsed = job.status is JobStatus.RUNNING and lease is not None and lease.until < now
        if job.status is not JobStatus.QUEUED and not lapsed:
            return None
        job.status, job.attempts = JobStatus.RUNNING, job.attempts + 1
        job.started_at = job.started_at or now
        self.leases[job_id] = Lease(worker_id, lease_until)
        return dataclasses.replace(job)

    def _held(self, job_id: UUID, worker_id: str) -> Job | None:
        job, lease = self.jobs.get(job_id), self.leases.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING or lease is None:
            return None
        return job if lease.owner == worker_id else None

    async def renew(self, job_id: UUID, worker_id: str, lease_until: datetime) -> bool | None:
        job = self._held(job_id, worker_id)
        if job is None:
            return None
        self.leases[job_id].until = lease_until
        return job.cancel_requested

    async def set_progress(self, job_id: UUID, worker_id: str, progress: float) -> None:
        job = self._held(job_id, worker_id)
        if job is not None:
            job.progress = progress

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
        job = self.jobs.get(job_id)
        if worker_id is None:
            if job is None or job.status is not JobStatus.QUEUED:
                return None
        elif self._held(job_id, worker_id) is None:
            return None
        assert job is not None
        job.status, job.finished_at, job.result = status, now, result
        if status is JobStatus.SUCCEEDED:
            job.progress, job.error = 1.0, None
        if error is not None:
            job.error = error
        self.leases.pop(job_id, None)
        return dataclasses.replace(job)

    async def release(
        self, job_id: UUID, worker_id: str, *, error: JobError | None, refund_attempt: bool
    ) -> bool:
        job = self._held(job_id, worker_id)
        if job is None:
            return False
        job.status = JobStatus.QUEUED
        job.attempts -= 1 if refund_attempt else 0
        job.error = error or job.error
        self.leases.pop(job_id, None)
        return True

    async def request_cancel(self, job_id: UUID) -> None:
        job = self.jobs.get(job_id)
        if job is not None and not job.status.finished:
            job.cancel_requested = True

    async def recoverable(self, *, now: datetime, queued_before: datetime, limit: int) -> list[Job]:
        found = []
        for job in self.jobs.values():
            lease = self.leases.get(job.id)
            if (job.status is JobStatus.QUEUED and job.created_at <= queued_before) or (
                job.status is JobStatus.RUNNING and lease is not None and lease.until < now
            ):
                found.append(dataclasses.replace(job))
        return found[:limit]

    async def depth(self) -> QueueDepth:
        queued = [j for j in self.jobs.values() if j.status is JobStatus.QUEUED]
        return QueueDepth(len(queued), min((j.created_at for j in queued), default=None))


class JobsUnitOfWork(DirectUnitOfWork):
    def __init__(self, jobs: FakeJobs) -> None:
        self.jobs = jobs


class JobsUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, jobs: FakeJobs) -> None:
        self.jobs = jobs

    def __call__(self) -> UnitOfWork:
        return JobsUnitOfWork(self.jobs)


class RecordingListener(JobFinishedListener):
    def __init__(self) -> None:
        self.finished: list[Job] = []

    async def job_finished(self, job: Job) -> None:
        self.finished.append(job)


class RecordingJobMetrics(JobMetrics):
    def __init__(self) -> None:
        self.finished: list[tuple[str, str]] = []

    def job_finished(self, kind: str, status: str, seconds: float) -> None:
        self.finished.append((kind, status))


class ScriptedHandler(JobHandler):
    """Fails with ``failures`` (one per attempt, in order), then returns ``{"ok": n}``;
    with ``block`` it waits until cancelled."""

    admin_only = False
    internal = False

    def __init__(
        self, kind: str, failures: list[BaseException] | None = None, block: bool = False
    ) -> None:
        self.kind = kind
        self.failures = list(failures or [])
        self.block = block
        self.runs = 0
        self.started = asyncio.Event()
        self.cancelled = False

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return dict(params)

    async def run(self, context: JobContext) -> dict[str, Any]:
        self.runs += 1
        self.started.set()
        await context.report_progress(0.5)
        if self.failures:
            raise self.failures.pop(0)
        if self.block:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        return {"ok": self.runs}


class FlakyStorage(Unavailable):
    code = "DATABASE_UNAVAILABLE"
