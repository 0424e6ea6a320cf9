"""RecoverJobs: re-deliver jobs a queue may have lost (a crash, a lost enqueue)."""

from __future__ import annotations

from datetime import timedelta

from application.jobs.policy import JobPolicy
from application.ports.clock import Clock
from application.ports.jobs import JobQueue
from application.ports.unit_of_work import UnitOfWorkFactory

BATCH = 500


class RecoverJobs:
    """Business rules:
    - ``queued`` jobs older than ``requeue_after_s`` (or all of them, ``everything``: at the
      start of the embedded pool, whose queue died with its process) and ``running`` jobs
      whose lease lapsed are handed to the queue again;
    - re-delivery is safe: the queue ignores ids already waiting, and a job runs under one
      lease at a time, so nothing runs twice at once and nothing is stored twice.
    """

    def __init__(
        self, uow_factory: UnitOfWorkFactory, queue: JobQueue, clock: Clock, policy: JobPolicy
    ) -> None:
        self._uow_factory = uow_factory
        self._queue = queue
        self._clock = clock
        self._policy = policy

    async def __call__(self, *, everything: bool = False) -> int:
        now = self._clock.now()
        before = now if everything else now - timedelta(seconds=self._policy.requeue_after_s)
        async with self._uow_factory() as uow:
            jobs = await uow.jobs.recoverable(now=now, queued_before=before, limit=BATCH)
        if jobs:
            await self._queue.enqueue([job.id for job in jobs])
        return len(jobs)
