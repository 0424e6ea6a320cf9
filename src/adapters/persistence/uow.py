"""SQLAlchemy unit of work: one AsyncSession per ``async with`` block."""

from __future__ import annotations

from contextlib import suppress
from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.repositories import chat, identity
from adapters.persistence.repositories.notifications import SqlNotificationRepository
from adapters.persistence.repositories.search import SqlMessageVectorRepository
from adapters.persistence.repositories.usage import SqlRouteStatsRepository, SqlUsageRepository
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import Conflict, Unavailable


class DatabaseUnavailable(Unavailable):
    code = "DATABASE_UNAVAILABLE"
    title = "Database unavailable"


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        session = self._session_factory()
        self._session = session
        self.users = identity.SqlUserRepository(session)
        self.api_keys = identity.SqlApiKeyRepository(session)
        self.auth_sessions = identity.SqlAuthSessionRepository(session)
        self.conversations = chat.SqlConversationRepository(session)
        self.messages = chat.SqlMessageRepository(session)
        self.message_vectors = SqlMessageVectorRepository(session)
        self.usage = SqlUsageRepository(session)
        self.route_stats = SqlRouteStatsRepository(session)
        self.notifications = SqlNotificationRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        with suppress(DBAPIError, OSError, PoolTimeout):
            if session.in_transaction():
                await session.rollback()
        with suppress(DBAPIError, OSError, PoolTimeout):
            await session.close()
        translated = translate_storage_error(exc)
        if translated is not None:
            raise translated from exc

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except Exception as exc:
            translated = translate_storage_error(exc)
            if translated is None:
                raise
            raise translated from exc

    async def rollback(self) -> None:
        await self.session.rollback()


def translate_storage_error(exc: BaseException | None) -> Exception | None:
    """Storage failures become domain errors; anything else is left alone."""
    if isinstance(exc, IntegrityError):
        return Conflict("the change conflicts with existing data")
    if isinstance(exc, OperationalError | PoolTimeout | ConnectionError | TimeoutError):
        return DatabaseUnavailable("the database is not reachable; try again shortly")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return DatabaseUnavailable("the database connection was lost; try again shortly")
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        return DatabaseUnavailable("the database is not reachable; try again shortly")
    return None


class SqlUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        autocommit_factory: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._autocommit_factory = autocommit_factory or session_factory

    def __call__(self) -> UnitOfWork:
        return SqlUnitOfWork(self._session_factory)

    def single_statement(self) -> UnitOfWork:
        """Sessions on AUTOCOMMIT connections of the same pool: each statement commits
        itself (PostgreSQL: one round trip instead of BEGIN, statement, COMMIT)."""
        return SqlUnitOfWork(self._autocommit_factory)
