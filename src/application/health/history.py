"""Health history: one periodic readiness check per slot across every instance, kept for
a retention period, summarised for admins."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from application.health.readiness import CheckReadiness
from application.identity.principal import Principal
from application.identity.user_lookup import require_admin
from application.ports.clock import Clock
from application.ports.health_history import HealthHistoryStore
from domain.errors import InvalidInput
from domain.health_history import ComponentHistory, HealthCheck, summarize

log = structlog.get_logger("parley.health.history")
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}


def slot_of(now: datetime, interval_s: float) -> datetime:
    """The start of the slot ``now`` falls in: slots are aligned on the epoch, so every
    instance computes the same one."""
    stamp = now.timestamp()
    return datetime.fromtimestamp(stamp - stamp % interval_s, UTC)


class RecordHealthCheck:
    """Business rules: at most one check per slot over every instance (the first to
    claim the slot runs it); every component is recorded, whatever its state; checks
    older than the retention period are dropped by whoever records."""

    def __init__(
        self,
        store: HealthHistoryStore,
        readiness: CheckReadiness,
        clock: Clock,
        interval_s: float,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self._store = store
        self._readiness = readiness
        self._clock = clock
        self._interval_s = interval_s
        self._retention = retention
        self.instance = uuid.uuid4().hex

    async def __call__(self) -> bool:
        """True when this instance took the current slot and recorded it."""
        now = self._clock.now()
        slot = slot_of(now, self._interval_s)
        if not await self._store.claim(slot, self.instance):
            return False
        result = await self._readiness()
        await self._store.record(
            [
                HealthCheck(slot, name, c.status, c.latency_ms, c.detail)
                for name, c in result.components.items()
            ]
        )
        await self._store.prune(now - self._retention)
        return True


class HealthHistoryLoop:
    """Runs ``RecordHealthCheck`` shortly after each slot starts, in the background of a
    serving process (the first round at the first boundary after start, so short-lived
    processes record nothing); a failed round (database down) is logged, the next tried."""

    def __init__(self, record: RecordHealthCheck, interval_s: float) -> None:
        self._record = record
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="health-history")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            # Rounds start just after a slot boundary, where every instance wakes too.
            now = datetime.now(UTC).timestamp()
            await asyncio.sleep(self._interval_s - now % self._interval_s + 0.01)
            try:
                await self._record()
            except Exception as exc:  # the loop outlives any one failed round
                log.warning("health_history_round_failed", error=type(exc).__name__)


@dataclass(frozen=True, slots=True)
class HealthHistoryReport:
    period: str
    since: datetime
    components: dict[str, ComponentHistory]


class GetHealthHistory:
    """Business rules: admins only; periods ``24h`` and ``7d``; per component the
    uptime ratio (checks answered ``ok``), failures, p50 latency and incidents."""

    def __init__(self, store: HealthHistoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, actor: Principal | None, period: str) -> HealthHistoryReport:
        require_admin(actor)
        if period not in PERIODS:
            raise InvalidInput(f"period must be one of {', '.join(PERIODS)}")
        since = self._clock.now() - PERIODS[period]
        return HealthHistoryReport(period, since, summarize(await self._store.since(since)))
