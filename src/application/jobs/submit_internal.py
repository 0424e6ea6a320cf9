"""SubmitInternalJob: jobs the system starts for a user (never listed, never counted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from application.jobs.handlers import JobHandlers
from application.jobs.submit_job import deliver
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.jobs import JobQueue
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.jobs import Job


class SubmitInternalJob:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        handlers: JobHandlers,
        queue: JobQueue,
        ids: IdGenerator,
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = handlers
        self._queue = queue
        self._ids = ids
        self._clock = clock

    async def __call__(self, owner_id: UUID, kind: str, params: Mapping[str, Any]) -> Job:
        handler = self._handlers.get(kind)
        job = Job.submit(
            id=self._ids.new_id(),
            owner_id=owner_id,
            kind=kind,
            params=handler.validate(params),
            now=self._clock.now(),
            visible=not handler.internal,
        )
        async with self._uow_factory() as uow:
            await uow.jobs.add(job)
            await uow.commit()
        await deliver(self._queue, job)
        return job
