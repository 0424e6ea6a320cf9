"""RequestStats: per-route counts, errors and latency, aggregated in memory per process
and written behind to storage for the admin ``api-usage`` report."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from application.monitoring.write_behind import WriteBehind
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.route_stats import RouteStats


def _today() -> date:
    return datetime.now(UTC).date()


class RequestStats(WriteBehind):
    """Business rules: routes are templates (``/api/v1/conversations/{id}``), never raw
    paths, so memory and rows stay bounded; each process owns its rows (``instance``) and
    rewrites them with its running totals, so concurrent writers never add twice; a day
    is kept in memory until written after it ended."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        interval_s: float = 5.0,
        today: Callable[[], date] = _today,
    ) -> None:
        super().__init__(interval_s)
        self._uow_factory = uow_factory
        self._today = today
        self.instance = uuid.uuid4().hex
        self._stats: dict[tuple[date, str, str], RouteStats] = {}
        self._dirty: set[tuple[date, str, str]] = set()

    def observe(self, method: str, route: str, status: int, duration_ms: float) -> None:
        key = (self._today(), method, route)
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = RouteStats(key[0], method, route)
        stats.observe(status, duration_ms)
        self._dirty.add(key)
        self._schedule()

    def _has_pending(self) -> bool:
        return bool(self._dirty)

    async def _write(self) -> None:
        dirty, self._dirty = self._dirty, set()
        try:
            async with self._uow_factory() as uow:
                await uow.route_stats.save(self.instance, [self._stats[k] for k in dirty])
                await uow.commit()
        except BaseException:
            self._dirty |= dirty
            raise
        today = self._today()
        for key in [k for k in self._stats if k[0] < today and k not in self._dirty]:
            del self._stats[key]
