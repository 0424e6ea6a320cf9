"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from adapters.persistence import sqlite_connection


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    connect_timeout_s: float = 1.0,
    command_timeout_s: float | None = 1.5,
    pool_timeout_s: float = 10.0,
    echo: bool = False,
) -> AsyncEngine:
    """One engine per process. SQLite gets WAL and foreign keys; Postgres a bounded pool
    and a bound on every statement (``command_timeout_s``; None: unbounded, for
    migrations), so that a frozen server gives an error in bounded time, not a hang."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        database = make_url(url).database or ""
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=0,
            # One thread hop per statement instead of aiosqlite's four (see the module).
            async_creator=partial(sqlite_connection.connect, database, timeout=30),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    connect_args: dict[str, Any] = {
        "timeout": connect_timeout_s,
        "command_timeout": command_timeout_s,
    }
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        # Waiting for a free pooled connection is queueing under load, not an outage (an
        # unreachable server fails within connect_timeout_s), so it may wait longer.
        pool_timeout=pool_timeout_s,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "handle_error", _drop_timed_out_connection)
    return engine


def _drop_timed_out_connection(context: ExceptionContext) -> None:
    """A statement that timed out leaves its connection in an unknown state, most likely
    stuck on a frozen or unreachable server: abort it at once and take it out of the pool.
    (Left alone, it would be closed gracefully, which waits on that same server.)"""
    if not isinstance(context.original_exception, TimeoutError) or context.connection is None:
        return
    with suppress(Exception):
        context.connection.connection.driver_connection.terminate()  # type: ignore[union-attr]
    context.is_disconnect = True
    context.invalidate_pool_on_disconnect = False  # one slow statement: just this connection


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take the write lock when a transaction starts. A deferred transaction that reads and
    then writes fails at once with SQLITE_BUSY if another writer committed in between (the
    busy timeout does not apply to that case); BEGIN IMMEDIATE makes it wait its turn."""
    driver = connection.connection.driver_connection
    if isinstance(driver, sqlite_connection.SqliteConnection):
        driver.begin_immediate()  # sent with the transaction's first statement
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
