"""SQLAlchemy unit of work: one AsyncSession per ``async with`` block."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from types import TracebackType
from typing import Any, Self

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.repositories import chat, identity
from adapters.persistence.repositories.jobs import SqlJobRepository
from adapters.persistence.repositories.notifications import SqlNotificationRepository
from adapters.persistence.repositories.search import SqlMessageVectorRepository
from adapters.persistence.repositories.usage import SqlRouteStatsRepository, SqlUsageRepository
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import Conflict, InvalidInput, Unavailable


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
        self.jobs = SqlJobRepository(session)
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
        translated = translate_storage_error(exc)
        if isinstance(translated, DatabaseUnavailable) or isinstance(exc, DatabaseUnavailable):
            # The connection may be stuck on a frozen or dead server: a rollback would wait
            # a whole statement timeout again, and even dropping it waits for a graceful
            # close. The caller gets its error now; the connection is dropped meanwhile.
            _in_background(session.invalidate())
        else:
            with suppress(DBAPIError, OSError, PoolTimeout, TimeoutError):
                if session.in_transaction():
                    await session.rollback()
            with suppress(DBAPIError, OSError, PoolTimeout, TimeoutError):
                await session.close()
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


# SQLSTATEs that say "the server cannot serve you now", not "your statement is wrong":
# connection exceptions (class 08), insufficient resources (class 53: too many
# connections, out of memory or disk), operator intervention (57: shutting down, starting
# up, crash recovery, statement timeout or cancel).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
# character_not_in_repertoire (a NUL in text) and untranslatable_character.
_UNSTORABLE_TEXT_SQLSTATES = ("22021", "22P05")


def _sqlstate(exc: BaseException) -> str:
    """The SQLSTATE the driver reported, wherever in the exception chain it sits."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(state, str) and state:
            return state
        seen = getattr(seen, "orig", None) or seen.__cause__
    return ""


def translate_storage_error(exc: BaseException | None) -> Exception | None:
    """Storage failures become domain errors; anything else is left alone."""
    if isinstance(exc, IntegrityError):
        return Conflict("the change conflicts with existing data")
    if isinstance(exc, DBAPIError) and _sqlstate(exc) in _UNSTORABLE_TEXT_SQLSTATES:
        # Last line of defence: the domain refuses NUL in the texts it knows about.
        return InvalidInput("the text contains a character the database cannot store")
    if isinstance(exc, OperationalError | PoolTimeout | ConnectionError | TimeoutError):
        return DatabaseUnavailable("the database is not reachable; try again shortly")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return DatabaseUnavailable("the database connection was lost; try again shortly")
    if isinstance(exc, DBAPIError) and _sqlstate(exc).startswith(_UNAVAILABLE_SQLSTATE_CLASSES):
        return DatabaseUnavailable("the database cannot serve requests now; try again shortly")
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        return DatabaseUnavailable("the database is not reachable; try again shortly")
    return None


_cleanups: set[asyncio.Task[None]] = set()


def _in_background(cleanup: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(cleanup)
    _cleanups.add(task)  # a reference until it ends, or it could be collected midway
    task.add_done_callback(_cleanup_done)


def _cleanup_done(task: asyncio.Task[None]) -> None:
    _cleanups.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved on purpose: the request already reported the outage


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
