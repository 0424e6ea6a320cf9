"""APP-scoped infrastructure: engine, sessions, Redis, clock, ids, health probes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, from_context, provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.memory.health import InProcessProbe
from adapters.persistence.database import create_engine, create_session_factory
from adapters.persistence.health import DatabaseProbe
from adapters.persistence.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from adapters.system.clock import SystemClock
from adapters.system.ids import UUID7Generator
from application.health.readiness import CheckReadiness, HealthProbe
from application.llm.health import LLMHealthProbe
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.search.health import VectorIndexProbe
from entrypoints.settings import Settings


class InfraProvider(Provider):
    settings = from_context(provides=Settings, scope=Scope.APP)
    clock = provide(SystemClock, scope=Scope.APP, provides=Clock)
    ids = provide(UUID7Generator, scope=Scope.APP, provides=IdGenerator)

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database.pool_size,
            max_overflow=settings.database.max_overflow,
            connect_timeout_s=settings.database.connect_timeout_s,
            command_timeout_s=settings.database.command_timeout_s,
            pool_timeout_s=settings.database.pool_timeout_s,
            echo=settings.database.echo,
        )
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return create_session_factory(engine)

    @provide(scope=Scope.APP)
    def uow_factory(
        self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession]
    ) -> UnitOfWorkFactory:
        if engine.dialect.name == "sqlite":
            # No round trip to save on SQLite, and switching a pooled connection to
            # autocommit and back costs statements of its own: one factory serves both.
            return SqlUnitOfWorkFactory(factory)
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        return SqlUnitOfWorkFactory(factory, create_session_factory(autocommit))

    @provide(scope=Scope.REQUEST)
    def uow(self, factory: async_sessionmaker[AsyncSession]) -> UnitOfWork:
        return SqlUnitOfWork(factory)


class HealthProvider(Provider):
    @provide(scope=Scope.APP)
    def probes(
        self,
        settings: Settings,
        engine: AsyncEngine,
        llm: LLMHealthProbe,
        vector_index: VectorIndexProbe,
    ) -> list[HealthProbe]:
        return [DatabaseProbe(engine), InProcessProbe("cache"), llm, vector_index]

    @provide(scope=Scope.APP)
    def readiness(self, probes: list[HealthProbe]) -> CheckReadiness:
        return CheckReadiness(probes)


def providers(settings: Settings) -> list[Provider]:
    chosen: list[Provider] = [InfraProvider(), HealthProvider()]
    if settings.redis.url:
        from entrypoints.providers.infra_redis import RedisHealthProvider, RedisProvider

        chosen += [RedisProvider(), RedisHealthProvider()]
    return chosen
