"""Health history: the store, the recording round, the background loop, the report."""

from __future__ import annotations

from datetime import timedelta

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.health_history import SqlHealthHistoryStore
from application.health.history import GetHealthHistory, HealthHistoryLoop, RecordHealthCheck
from application.health.readiness import CheckReadiness
from application.ports.clock import Clock
from application.ports.health_history import HealthHistoryStore
from entrypoints.settings import Settings


class HealthHistoryProvider(Provider):
    scope = Scope.APP

    @provide
    def store(self, sessions: async_sessionmaker[AsyncSession]) -> HealthHistoryStore:
        return SqlHealthHistoryStore(sessions)

    @provide
    def record(
        self,
        settings: Settings,
        store: HealthHistoryStore,
        readiness: CheckReadiness,
        clock: Clock,
    ) -> RecordHealthCheck:
        return RecordHealthCheck(
            store,
            readiness,
            clock,
            settings.health.history_interval_s,
            timedelta(days=settings.health.history_retention_days),
        )

    @provide
    def loop(self, settings: Settings, record: RecordHealthCheck) -> HealthHistoryLoop:
        return HealthHistoryLoop(record, settings.health.history_interval_s)

    report = provide(GetHealthHistory)


def providers(settings: Settings) -> list[Provider]:
    return [HealthHistoryProvider()]
