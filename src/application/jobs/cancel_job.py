"""CancelJob: a queued job stops at once; a running one at its worker's next heartbeat."""

from __future__ import annotations

from uuid import UUID

from application.jobs.read_jobs import owned_job
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.jobs import Job, JobFinished, JobStatus


class CancelJob:
    """Business rules:
    - only the owner may cancel (else "not found"); a finished job: JOB_FINISHED (409);
    - a queued job is stored ``cancelled`` now (a late delivery finds it finished and
      does nothing); a running one is flagged, and its worker stops the handler and stores
      ``cancelled`` after settling what its model calls spent;
    - a cancel the owner asked for creates no notification (they know).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, owner_id: UUID, job_id: UUID) -> Job:
        async with self._uow as uow:
            job = await owned_job(uow, owner_id, job_id)
            job.ensure_cancellable()
            if job.status is JobStatus.QUEUED:
                now = self._clock.now()
                cancelled = await uow.jobs.finish(job.id, None, JobStatus.CANCELLED, now=now)
                if cancelled is not None:
                    await uow.commit()
                    return cancelled
                # It started meanwhile: fall through to the running case.
            await uow.jobs.request_cancel(job.id)
            await uow.commit()
            job = await owned_job(uow, owner_id, job_id)
        if job.status.finished and job.status is not JobStatus.CANCELLED:
            raise JobFinished(f"the job is already {job.status.value}")
        job.cancel_requested = True
        return job
