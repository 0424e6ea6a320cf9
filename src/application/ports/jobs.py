"""Jobs: the repository of job records and the queue that delivers them to a worker.

The ``jobs`` table is the truth users see; a queue only carries job ids. Delivery is at
least once, so the repository's ``claim`` and ``finish`` are conditional: a job runs under
one worker's lease at a time, and only the lease holder can finish it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.jobs import Job, JobError, JobStatus
from domain.pagination import Page


@dataclass(frozen=True, slots=True)
class QueueDepth:
    queued: int
    oldest_queued_at: datetime | None


class JobRepository(Protocol):
    @abstractmethod
    async def add(self, job: Job) -> None: ...

    @abstractmethod
    async def get(self, job_id: UUID) -> Job | None: ...

    @abstractmethod
    async def page(
        self,
        owner_id: UUID,
        *,
        limit: int,
        cursor: str | None = None,
        status: JobStatus | None = None,
        kind: str | None = None,
    ) -> Page[Job]:
        """The owner's visible jobs, newest first."""

    @abstractmethod
    async def count_since(self, owner_id: UUID, since: datetime) -> int:
        """Visible jobs the owner submitted since ``since`` (the plan's monthly cap)."""

    @abstractmethod
    async def claim(
        self, job_id: UUID, worker_id: str, *, now: datetime, lease_until: datetime
    ) -> Job | None:
        """Start an attempt: a ``queued`` job, or a ``running`` one whose lease lapsed
        (its worker died), becomes ``running`` under ``worker_id`` with ``attempts + 1``.
        None when the job is missing, finished, or leased by a live worker."""

    @abstractmethod
    async def renew(self, job_id: UUID, worker_id: str, lease_until: datetime) -> bool | None:
        """Extend the lease; returns whether a cancel was requested, or None when this
        worker no longer holds the job."""

    @abstractmethod
    async def set_progress(self, job_id: UUID, worker_id: str, progress: float) -> None: ...

    @abstractmethod
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
        """Store the outcome only if ``worker_id`` holds the running job (None: only if it
        is still ``queued``); the finished job, or None when nothing changed."""

    @abstractmethod
    async def release(
        self, job_id: UUID, worker_id: str, *, error: JobError | None, refund_attempt: bool
    ) -> bool:
        """Put a running job back to ``queued`` (another attempt follows); with
        ``refund_attempt`` the attempt does not count (the process is shutting down)."""

    @abstractmethod
    async def request_cancel(self, job_id: UUID) -> None:
        """Flag a running job; its worker sees the flag at its next heartbeat."""

    @abstractmethod
    async def recoverable(self, *, now: datetime, queued_before: datetime, limit: int) -> list[Job]:
        """Jobs a queue may have lost: ``queued`` since before ``queued_before``, or
        ``running`` with a lapsed lease."""

    @abstractmethod
    async def depth(self) -> QueueDepth: ...


@dataclass(frozen=True, slots=True)
class QueueInfo:
    workers_alive: int
    """Worker processes seen alive recently (the in-process pool counts as one)."""
    detail: str


class JobQueue(Protocol):
    """Delivers job ids to workers. ``enqueue`` of an id already waiting is a no-op."""

    @abstractmethod
    async def enqueue(self, job_ids: Sequence[UUID], *, delay_s: float = 0.0) -> None: ...

    @abstractmethod
    async def info(self) -> QueueInfo: ...
