"""A background job: the record its owner sees (status, progress, result, error, attempts).

The queue that delivers a job is not the record: the ``jobs`` table is. A job moves
``queued -> running -> succeeded | failed | cancelled`` (``running -> queued`` again when an
attempt fails and another is allowed); a terminal job never moves again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import Conflict, InvalidInput, NotFound


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class JobNotFound(NotFound):
    """Missing, or someone else's: both look the same (never 403)."""

    code = "JOB_NOT_FOUND"
    title = "Job not found"


class JobFinished(Conflict):
    code = "JOB_FINISHED"
    title = "The job has already finished"


class UnknownJobKind(InvalidInput):
    code = "UNKNOWN_JOB_KIND"
    title = "Unknown job kind"


class JobKindUnavailable(InvalidInput):
    """A kind the contract names whose handler this build does not have yet."""

    code = "JOB_KIND_UNAVAILABLE"
    title = "This job kind is not available"


@dataclass(frozen=True, slots=True)
class JobError:
    code: str
    detail: str


@dataclass(slots=True)
class Job:
    """``visible`` is False for internal jobs (background titles): never listed, never
    counted against the plan, no notification."""

    id: UUID
    owner_id: UUID
    kind: str
    params: dict[str, Any]
    created_at: datetime
    status: JobStatus = JobStatus.QUEUED
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: JobError | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    visible: bool = True
    cancel_requested: bool = False

    @classmethod
    def submit(
        cls,
        *,
        id: UUID,
        owner_id: UUID,
        kind: str,
        params: dict[str, Any],
        now: datetime,
        visible: bool = True,
    ) -> Job:
        return cls(
            id=id, owner_id=owner_id, kind=kind, params=params, created_at=now, visible=visible
        )

    def is_owned_by(self, user_id: UUID) -> bool:
        return self.owner_id == user_id

    def ensure_cancellable(self) -> None:
        if self.status.finished:
            raise JobFinished(f"the job is already {self.status.value}")


def clamp_progress(value: float) -> float:
    return max(0.0, min(1.0, float(value)))
