"""RunJob: one delivery of a job to a worker, from claim to stored outcome."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog

from application.jobs.handlers import JobContext, JobHandlers
from application.jobs.policy import JobPolicy
from application.ports.clock import Clock
from application.ports.job_events import JobFinishedListener, JobMetrics
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from domain.jobs import Job, JobError, JobStatus, clamp_progress
from domain.plans import QuotaExceeded

log = structlog.get_logger("parley.jobs")

# Retrying cannot fix these: the job fails at once.
PERMANENT = (InvalidInput, NotFound, Forbidden, Conflict, QuotaExceeded)


class Outcome(enum.Enum):
    FINISHED = "finished"
    """Stored as succeeded, failed or cancelled (by this delivery or an earlier one)."""
    RETRY = "retry"
    """This attempt failed and another is allowed: deliver again after ``delay_s``."""
    BUSY = "busy"
    """Another live worker holds the job: deliver again after ``delay_s`` to check."""


@dataclass(frozen=True, slots=True)
class RunResult:
    outcome: Outcome
    delay_s: float = 0.0


@dataclass(slots=True)
class _Attempt:
    progress: float
    cancel: bool = False
    lost: bool = False


class RunJob:
    """Business rules:
    - one attempt at a time: the job is claimed under a lease that a heartbeat renews; a
      lapsed lease (dead worker) lets the next delivery claim it again;
    - only the lease holder stores the outcome, once: effects visible to the owner happen
      once however often the job is delivered;
    - a cancel flag stops the handler within one heartbeat and stores ``cancelled``; the
      handler's model calls settle what they spent as their streams close;
    - a permanent error (bad input, missing target, quota) fails the job at once; any
      other error retries with backoff until ``max_attempts``, then fails with the error
      stored; a job delivered after its last attempt died fails as WORKER_LOST;
    - a process that stops mid-job puts it back in the queue without counting the attempt.

    Each write to the job's record is one conditional statement (claim, heartbeat,
    progress, release, finish) that commits on its own: a delivery spends one database
    round trip per state change, not a transaction's three.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        handlers: JobHandlers,
        clock: Clock,
        policy: JobPolicy,
        listener: JobFinishedListener,
        metrics: JobMetrics,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = handlers
        self._clock = clock
        self._policy = policy
        self._listener = listener
        self._metrics = metrics

    async def __call__(self, job_id: UUID, worker_id: str) -> RunResult:
        job = await self._claim(job_id, worker_id)
        if isinstance(job, RunResult):
            return job
        if job.cancel_requested:
            await self._finish(job, worker_id, JobStatus.CANCELLED, 0.0)
            return RunResult(Outcome.FINISHED)
        if job.attempts > self._policy.max_attempts:
            error = job.error or JobError("WORKER_LOST", "the job's worker stopped mid-run")
            await self._finish(job, worker_id, JobStatus.FAILED, 0.0, error=error)
            return RunResult(Outcome.FINISHED)
        return await self._attempt(job, worker_id)

    async def _claim(self, job_id: UUID, worker_id: str) -> Job | RunResult:
        now = self._clock.now()
        lease_until = now + timedelta(seconds=self._policy.lease_s)
        async with self._uow_factory.single_statement() as uow:
            job = await uow.jobs.claim(job_id, worker_id, now=now, lease_until=lease_until)
            if job is not None:
                await uow.commit()
                return job
            current = await uow.jobs.get(job_id)
        if current is None or current.status.finished:
            return RunResult(Outcome.FINISHED)
        return RunResult(Outcome.BUSY, self._policy.lease_s)

    async def _attempt(self, job: Job, worker_id: str) -> RunResult:
        started = time.monotonic()
        state = _Attempt(progress=job.progress)
        try:
            handler = self._handlers.get(job.kind)
        except DomainError as exc:
            return await self._failed(job, worker_id, started, exc)

        async def report(progress: float) -> None:
            value = clamp_progress(progress)
            if value <= state.progress:
                return
            state.progress = value
            with contextlib.suppress(DomainError):
                async with self._uow_factory.single_statement() as uow:
                    await uow.jobs.set_progress(job.id, worker_id, value)
                    await uow.commit()
            if job.visible:
                try:
                    await self._listener.job_progressed(job, value)
                except Exception:
                    log.exception("job_progress_listener_failed", job_id=str(job.id))

        context = JobContext(
            job.id, job.owner_id, job.params, job.attempts, report, lambda: state.cancel
        )
        task = asyncio.create_task(handler.run(context), name=f"job-{job.id}")
        beat: asyncio.Task[None] | None = None
        try:
            # Most jobs end before their first heartbeat is due: no heartbeat task for them.
            first = min(self._policy.heartbeat_s, self._policy.timeout_s)
            done, _ = await asyncio.wait({task}, timeout=first)
            if not done:
                beat = asyncio.create_task(self._heartbeat(job.id, worker_id, state, task))
                remaining = max(0.0, self._policy.timeout_s - first)
                done, _ = await asyncio.wait({task}, timeout=remaining)
        except asyncio.CancelledError:  # this process is stopping
            await _stop(task)
            with contextlib.suppress(DomainError):
                async with self._uow_factory.single_statement() as uow:
                    await uow.jobs.release(job.id, worker_id, error=None, refund_attempt=True)
                    await uow.commit()
            raise
        finally:
            if beat is not None:
                beat.cancel()
        if not done:
            await _stop(task)
            timeout = JobTimedOut(f"the job ran longer than {self._policy.timeout_s:g}s")
            return await self._failed(job, worker_id, started, timeout)
        if state.lost:
            log.warning("job_lease_lost", job_id=str(job.id), worker=worker_id)
            return RunResult(Outcome.BUSY, self._policy.lease_s)
        if state.cancel and (task.cancelled() or isinstance(task.exception(), Exception)):
            await self._finish(job, worker_id, JobStatus.CANCELLED, _since(started))
            return RunResult(Outcome.FINISHED)
        failure = None if task.cancelled() else task.exception()
        if task.cancelled() or failure is not None:
            return await self._failed(job, worker_id, started, failure or JobCrashed("cancelled"))
        result: dict[str, Any] = task.result()
        await self._finish(job, worker_id, JobStatus.SUCCEEDED, _since(started), result=result)
        return RunResult(Outcome.FINISHED)

    async def _heartbeat(
        self, job_id: UUID, worker_id: str, state: _Attempt, task: asyncio.Task[Any]
    ) -> None:
        while not task.done():
            until = self._clock.now() + timedelta(seconds=self._policy.lease_s)
            try:
                async with self._uow_factory.single_statement() as uow:
                    cancel = await uow.jobs.renew(job_id, worker_id, until)
                    await uow.commit()
            except DomainError as exc:  # the database blinked: the lease has slack
                log.info("job_heartbeat_failed", job_id=str(job_id), code=exc.code)
                await asyncio.sleep(self._policy.heartbeat_s)
                continue
            if cancel is None:
                state.lost = True
            elif cancel:
                state.cancel = True
            if state.lost or state.cancel:
                task.cancel()
                return
            await asyncio.sleep(self._policy.heartbeat_s)

    async def _failed(
        self, job: Job, worker_id: str, started: float, exc: BaseException
    ) -> RunResult:
        error = _job_error(exc)
        if not isinstance(exc, DomainError):
            log.error("job_crashed", job_id=str(job.id), kind=job.kind, exc_info=exc)
        else:
            log.info("job_attempt_failed", job_id=str(job.id), kind=job.kind, code=error.code)
        permanent = isinstance(exc, PERMANENT)
        if permanent or job.attempts >= self._policy.max_attempts:
            await self._finish(job, worker_id, JobStatus.FAILED, _since(started), error=error)
            return RunResult(Outcome.FINISHED)
        async with self._uow_factory.single_statement() as uow:
            await uow.jobs.release(job.id, worker_id, error=error, refund_attempt=False)
            await uow.commit()
        return RunResult(Outcome.RETRY, self._policy.retry_delay(job.attempts))

    async def _finish(
        self,
        job: Job,
        worker_id: str,
        status: JobStatus,
        seconds: float,
        *,
        result: dict[str, Any] | None = None,
        error: JobError | None = None,
    ) -> None:
        now = self._clock.now()
        async with self._uow_factory.single_statement() as uow:
            finished = await uow.jobs.finish(
                job.id, worker_id, status, now=now, result=result, error=error
            )
            await uow.commit()
        if finished is None:
            return  # someone else finished it, or it was deleted
        log.info(
            "job_finished",
            job_id=str(job.id),
            kind=job.kind,
            status=status.value,
            attempts=finished.attempts,
            worker=worker_id,
        )
        self._metrics.job_finished(job.kind, status.value, seconds)
        if finished.visible and status is not JobStatus.CANCELLED:
            try:
                await self._listener.job_finished(finished)
            except Exception:
                log.exception("job_finished_listener_failed", job_id=str(job.id))


class JobTimedOut(DomainError):
    code = "JOB_TIMEOUT"
    title = "The job took too long"


class JobCrashed(DomainError):
    code = "JOB_CRASHED"
    title = "The job failed unexpectedly"


def _job_error(exc: BaseException) -> JobError:
    if isinstance(exc, DomainError):
        return JobError(exc.code, exc.detail[:500])
    # No stack trace or message reaches the owner: only the kind of failure.
    return JobError(JobCrashed.code, f"the job failed unexpectedly ({type(exc).__name__})")


async def _stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


def _since(started: float) -> float:
    return time.monotonic() - started
