"""Tell a job's owner about it: a notification when it finishes, live ``job.updated``."""

from __future__ import annotations

import msgspec

from application.events.push import push
from application.jobs.views import job_view
from application.notifications.notify_user import NotifyUser, NotifyUserCommand
from application.ports.event_bus import EventBus, EventType, UserEvent
from application.ports.job_events import JobFinishedListener
from domain.jobs import Job, JobStatus

TITLES = {
    JobStatus.SUCCEEDED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "was cancelled",
}


class NotifyJobOwner(JobFinishedListener):
    """Business rules: a finished job creates one notification (stored, then pushed to
    every socket of the owner), ``kind: job.finished`` with ``data.job_id``; progress and
    the final state are also pushed as ``job.updated {job}`` frames, which are best effort
    (the job itself is the record)."""

    def __init__(self, notify: NotifyUser, bus: EventBus) -> None:
        self._notify = notify
        self._bus = bus

    async def job_finished(self, job: Job) -> None:
        await self._push(job)
        body = job.error.detail if job.error else ""
        await self._notify(
            NotifyUserCommand(
                job.owner_id,
                "job.finished",
                f"{job.kind.replace('_', ' ').capitalize()} {TITLES.get(job.status, 'ended')}",
                body,
                {"job_id": str(job.id), "kind": job.kind, "status": job.status.value},
            )
        )

    async def job_progressed(self, job: Job, progress: float) -> None:
        job.progress = progress
        await self._push(job)

    async def _push(self, job: Job) -> None:
        data = {"job": msgspec.to_builtins(job_view(job))}
        await push(
            self._bus,
            UserEvent(EventType.JOB_UPDATED, job.owner_id, data),
            not_pushed="job_update_not_pushed",
            level="info",
            job_id=str(job.id),
        )
