"""RunJob: claims under a lease, stores one outcome, retries with bounds, honours cancel."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest

from application.jobs.handlers import JobHandlers
from application.jobs.policy import JobPolicy
from application.jobs.run_job import Outcome, RunJob
from domain.errors import InvalidInput
from domain.jobs import Job, JobStatus
from tests.unit.chat.fakes import FixedClock
from tests.unit.jobs.fakes import (
    FakeJobs,
    FlakyStorage,
    JobsUnitOfWorkFactory,
    RecordingJobMetrics,
    RecordingListener,
    ScriptedHandler,
)

POLICY = JobPolicy(
    max_attempts=3, lease_s=30, heartbeat_s=0.01, retry_delay_s=1.0, retry_max_delay_s=3.0
)


class World:
    def __init__(self, *handlers: ScriptedHandler, policy: JobPolicy = POLICY) -> None:
        self.jobs = FakeJobs()
        self.clock = FixedClock()
        self.listener = RecordingListener()
        self.metrics = RecordingJobMetrics()
        self.run = RunJob(
            JobsUnitOfWorkFactory(self.jobs),
            JobHandlers(handlers),
            self.clock,
            policy,
            self.listener,
            self.metrics,
        )

    async def submit(self, kind: str, *, visible: bool = True) -> Job:
        job = Job.submit(
            id=uuid4(),
            owner_id=uuid4(),
            kind=kind,
            params={},
            now=self.clock.now(),
            visible=visible,
        )
        await self.jobs.add(job)
        return job

    def stored(self, job: Job) -> Job:
        return self.jobs.jobs[job.id]


async def test_a_job_that_succeeds_stores_its_result_once_and_notifies_once() -> None:
    world = World(ScriptedHandler("work"))
    job = await world.submit("work")
    assert (await world.run(job.id, "w1")).outcome is Outcome.FINISHED
    stored = world.stored(job)
    assert (stored.status, stored.result, stored.progress, stored.attempts) == (
        JobStatus.SUCCEEDED,
        {"ok": 1},
        1.0,
        1,
    )
    assert (await world.run(job.id, "w2")).outcome is Outcome.FINISHED  # a late redelivery
    assert world.stored(job).result == {"ok": 1}
    assert [j.id for j in world.listener.finished] == [job.id]
    assert world.metrics.finished == [("work", "succeeded")]


async def test_a_transient_failure_is_retried_with_growing_delays() -> None:
    handler = ScriptedHandler("flaky", failures=[FlakyStorage("down"), FlakyStorage("down")])
    world = World(handler)
    job = await world.submit("flaky")
    first = await world.run(job.id, "w1")
    assert (first.outcome, first.delay_s) == (Outcome.RETRY, 1.0)
    assert world.stored(job).status is JobStatus.QUEUED
    assert (
        world.stored(job).error is not None
        and world.stored(job).error.code == "DATABASE_UNAVAILABLE"
    )
    second = await world.run(job.id, "w1")
    assert (second.outcome, second.delay_s) == (Outcome.RETRY, 2.0)
    assert (await world.run(job.id, "w1")).outcome is Outcome.FINISHED
    stored = world.stored(job)
    assert (stored.status, stored.attempts, stored.error) == (JobStatus.SUCCEEDED, 3, None)


async def test_a_poison_job_fails_after_the_last_attempt_with_its_error_stored() -> None:
    crashes: list[BaseException] = [RuntimeError("boom at /secret/path")] * 5
    world = World(ScriptedHandler("poison", failures=crashes))
    job = await world.submit("poison")
    outcomes = [(await world.run(job.id, "w1")).outcome for _ in range(3)]
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FINISHED]
    stored = world.stored(job)
    assert (stored.status, stored.attempts) == (JobStatus.FAILED, 3)
    assert stored.error is not None and stored.error.code == "JOB_CRASHED"
    assert "secret" not in stored.error.detail  # no exception text reaches the owner
    assert world.listener.finished[0].status is JobStatus.FAILED


async def test_a_permanent_error_fails_at_once() -> None:
    world = World(ScriptedHandler("strict", failures=[InvalidInput("no such thing")]))
    job = await world.submit("strict")
    assert (await world.run(job.id, "w1")).outcome is Outcome.FINISHED
    stored = world.stored(job)
    assert (stored.status, stored.attempts) == (JobStatus.FAILED, 1)
    assert stored.error is not None and stored.error.detail == "no such thing"


async def test_a_job_held_by_a_live_worker_is_not_run_twice() -> None:
    handler = ScriptedHandler("slow", block=True)
    world = World(handler)
    job = await world.submit("slow")
    first = asyncio.create_task(world.run(job.id, "w1"))
    await handler.started.wait()
    busy = await world.run(job.id, "w2")
    assert (busy.outcome, handler.runs) == (Outcome.BUSY, 1)
    await world.jobs.request_cancel(job.id)
    assert (await first).outcome is Outcome.FINISHED
    assert handler.cancelled and world.stored(job).status is JobStatus.CANCELLED
    assert world.listener.finished == []  # the owner cancelled: no notification


async def test_a_lapsed_lease_lets_the_next_delivery_take_over_and_the_old_worker_loses_it() -> (
    None
):
    handler = ScriptedHandler("slow", block=True)
    world = World(handler, policy=JobPolicy(lease_s=30, heartbeat_s=0.01, max_attempts=3))
    job = await world.submit("slow")
    first = asyncio.create_task(world.run(job.id, "dead"))
    await handler.started.wait()
    world.clock.current += timedelta(seconds=31)  # its heartbeats stop counting from here
    world.jobs.leases[job.id].until = world.clock.current - timedelta(seconds=1)
    handler.block = False
    taken = await world.run(job.id, "alive")
    assert taken.outcome is Outcome.FINISHED
    assert world.stored(job).attempts == 2 and world.stored(job).result == {"ok": 2}
    assert (await first).outcome is Outcome.BUSY  # the old attempt stores nothing
    assert len(world.listener.finished) == 1


async def test_a_job_whose_last_attempt_died_fails_as_worker_lost() -> None:
    world = World(ScriptedHandler("work"), policy=JobPolicy(max_attempts=1, lease_s=30))
    job = await world.submit("work")
    world.jobs.jobs[job.id].attempts = 1  # its only attempt's worker died mid-run
    assert (await world.run(job.id, "w2")).outcome is Outcome.FINISHED
    stored = world.stored(job)
    assert stored.status is JobStatus.FAILED and stored.error is not None
    assert stored.error.code == "WORKER_LOST"


async def test_a_stopping_process_puts_its_job_back_without_counting_the_attempt() -> None:
    handler = ScriptedHandler("slow", block=True)
    world = World(handler)
    job = await world.submit("slow")
    running = asyncio.create_task(world.run(job.id, "w1"))
    await handler.started.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    stored = world.stored(job)
    assert (stored.status, stored.attempts) == (JobStatus.QUEUED, 0)


async def test_internal_jobs_finish_without_a_notification() -> None:
    world = World(ScriptedHandler("quiet"))
    job = await world.submit("quiet", visible=False)
    await world.run(job.id, "w1")
    assert world.stored(job).status is JobStatus.SUCCEEDED and world.listener.finished == []
