"""SubmitJob: validate a client's job, store it queued, hand its id to the queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from application.identity.principal import Principal
from application.jobs.handlers import JobHandlers
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.jobs import JobQueue
from application.ports.unit_of_work import UnitOfWork
from domain.errors import DomainError, Forbidden
from domain.jobs import Job, UnknownJobKind
from domain.plans import PlanBook, QuotaExceeded
from domain.usage import seconds_until_next_month

log = structlog.get_logger("parley.jobs")


class AdminOnlyJob(Forbidden):
    code = "ADMIN_ONLY"
    title = "Only administrators may run this job"


@dataclass(frozen=True, slots=True)
class SubmitJobCommand:
    principal: Principal
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


class SubmitJob:
    """Business rules:
    - an unknown or internal kind, or bad params, is refused (400) before anything is
      stored or queued; an admin-only kind is 403 for everyone else;
    - the plan's ``monthly_jobs`` caps the visible jobs submitted this calendar month
      (UTC); over it: QUOTA_EXCEEDED, nothing stored;
    - the job is committed ``queued`` before the queue hears of it, so a queue that is
      down loses nothing: the recovery sweep delivers it later.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        handlers: JobHandlers,
        queue: JobQueue,
        ids: IdGenerator,
        clock: Clock,
        plans: PlanBook,
    ) -> None:
        self._uow = uow
        self._handlers = handlers
        self._queue = queue
        self._ids = ids
        self._clock = clock
        self._plans = plans

    async def __call__(self, command: SubmitJobCommand) -> Job:
        who = command.principal
        handler = self._handlers.get(command.kind)
        if handler.internal:
            raise UnknownJobKind(
                f"unknown job kind {command.kind[:40]!r}", details={"field": "kind"}
            )
        if handler.admin_only and not who.is_admin:
            raise AdminOnlyJob(f"{command.kind!r} jobs are for administrators")
        params = handler.validate(command.params)
        now = self._clock.now()
        job = Job.submit(
            id=self._ids.new_id(), owner_id=who.user_id, kind=command.kind, params=params, now=now
        )
        async with self._uow as uow:
            await handler.check(uow, who.user_id, params)
            cap = self._plans.get(who.plan).monthly_jobs
            if cap is not None:
                month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
                if await uow.jobs.count_since(who.user_id, month_start) >= cap:
                    raise QuotaExceeded(
                        f"the plan allows {cap} jobs a month",
                        retry_after_s=seconds_until_next_month(now),
                        details={"limit": "monthly_jobs"},
                    )
            await uow.jobs.add(job)
            await uow.commit()
        await deliver(self._queue, job)
        return job


async def deliver(queue: JobQueue, job: Job) -> None:
    try:
        await queue.enqueue([job.id])
    except DomainError as exc:  # stored: the recovery sweep will deliver it
        log.warning("job_enqueue_deferred", job_id=str(job.id), code=exc.code)
