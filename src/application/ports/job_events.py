"""What the jobs feature tells the rest of the system when a job finishes.

The notifications feature serves it (store a notification, then push it, plus live
``job.updated`` events). Implementations must not raise into the job runner.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol

from domain.jobs import Job


class JobFinishedListener(Protocol):
    @abstractmethod
    async def job_finished(self, job: Job) -> None:
        """``job`` is the stored, finished record (succeeded or failed, or cancelled)."""

    async def job_progressed(self, job: Job, progress: float) -> None:
        """A running visible job stored new progress (live updates; best effort)."""
        return None


class NoJobListener(JobFinishedListener):
    async def job_finished(self, job: Job) -> None:
        return None


class JobMetrics(Protocol):
    """Job counters by kind and status and a duration histogram (bounded label sets)."""

    @abstractmethod
    def job_finished(self, kind: str, status: str, seconds: float) -> None: ...


class NoJobMetrics(JobMetrics):
    def job_finished(self, kind: str, status: str, seconds: float) -> None:
        return None
