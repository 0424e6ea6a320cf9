"""The ``queue`` component of readiness: depth, oldest queued age, live workers."""

from __future__ import annotations

import time

from application.health.readiness import ComponentHealth, HealthProbe, Status
from application.ports.clock import Clock
from application.ports.jobs import JobQueue
from application.ports.unit_of_work import UnitOfWorkFactory


class QueueProbe(HealthProbe):
    """``degraded`` when jobs wait and no worker has been seen alive in the last 30 s;
    ``down`` when the queue cannot be asked. Not critical: chat works without jobs."""

    name = "queue"
    critical = False

    def __init__(self, uow_factory: UnitOfWorkFactory, queue: JobQueue, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._queue = queue
        self._clock = clock

    async def check(self) -> ComponentHealth:
        started = time.perf_counter()
        async with self._uow_factory() as uow:
            depth = await uow.jobs.depth()
        try:
            info = await self._queue.info()
        except Exception as exc:
            return ComponentHealth(
                "down", _ms(started), f"queue unreachable ({type(exc).__name__})"
            )
        oldest = 0.0
        if depth.oldest_queued_at is not None:
            oldest = max(0.0, (self._clock.now() - depth.oldest_queued_at).total_seconds())
        detail = (
            f"depth {depth.queued}, oldest queued {oldest:.1f}s, "
            f"workers alive {info.workers_alive} ({info.detail})"
        )
        status: Status = "degraded" if depth.queued and not info.workers_alive else "ok"
        return ComponentHealth(status, _ms(started), detail)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
