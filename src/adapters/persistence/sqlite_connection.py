"""An asyncio SQLite connection that costs one thread hop per statement.

SQLAlchemy's ``sqlite+aiosqlite`` dialect drives a connection object shaped like
aiosqlite's. aiosqlite hands every call to the connection's thread and back: making a
cursor, executing, fetching the rows and closing the cursor are four hops for one
statement, and each hop wakes the event loop from another thread. A profile of a stored
chat turn showed these hops to be a third of its CPU. This connection keeps the same
shape (so the dialect, the pool and every statement stay as they are) but:

- a statement is one hop: the thread makes the cursor, executes, fetches every row and
  closes it; the rows, ``description``, ``rowcount`` and ``lastrowid`` come back at once;
- ``BEGIN IMMEDIATE`` (how every transaction starts here) travels with the transaction's
  first statement, or its commit, in the same hop; a failure to take the lock is raised
  by that statement, inside the transaction, as it would have been by the BEGIN;
- a commit or rollback with no transaction open (the pool's reset when a connection is
  returned) answers at once, without a hop.

Statements still run on the connection's own thread, never on the event loop: a
statement may wait for the database lock (``busy_timeout``) or for the disk, and the
loop must keep serving meanwhile. One statement at a time runs per connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from queue import SimpleQueue
from typing import Any

_BEGIN = "BEGIN IMMEDIATE"
_Job = tuple["asyncio.Future[Any] | None", Callable[[], Any]]
_STOP = object()


def _resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class _Progress:
    """Jobs queued (counted on the loop) and finished (counted by the thread): while they
    differ, a job may still be running, even one whose caller was cancelled."""

    __slots__ = ("finished", "queued")

    def __init__(self) -> None:
        self.queued = 0
        self.finished = 0

    @property
    def idle(self) -> bool:
        return self.queued == self.finished


def _work(jobs: SimpleQueue[_Job]) -> None:
    """The connection's thread: run each job, hand its outcome back to the loop."""
    while True:
        future, job = jobs.get()
        try:
            value, ok = job(), True
        except BaseException as exc:  # every failure goes to the caller
            value, ok = exc, False
        if future is not None:
            future.get_loop().call_soon_threadsafe(_resolve, future, ok, value)
        if value is _STOP:
            return


class _Outcome:
    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, rows: list[Any]) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.rows = rows


class SqliteConnection:
    """What SQLAlchemy's aiosqlite dialect needs of a connection, one hop per statement.

    ``_conn`` and ``_tx`` are the two internals of aiosqlite's connection that the dialect
    touches directly (to change the isolation level on the connection's thread); they
    keep that meaning here.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._connection: sqlite3.Connection | None = None
        self._tx: SimpleQueue[_Job] = SimpleQueue()
        self._progress = _Progress()
        self._thread = threading.Thread(
            target=_work, args=(self._tx,), name="parley-sqlite", daemon=True
        )
        self._begin_pending = False

    async def open(self) -> SqliteConnection:
        self._thread.start()
        self._connection = await self._call(self._connect)
        return self

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._begin_pending or self._conn.in_transaction

    async def _call(self, job: Callable[[], Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        progress = self._progress

        def counted() -> Any:
            try:
                return job()
            finally:
                progress.finished += 1

        progress.queued += 1
        self._tx.put_nowait((future, counted))
        return await future

    def begin_immediate(self) -> None:
        """Start a transaction that holds the write lock, with the next statement (or the
        commit): no hop of its own."""
        self._begin_pending = True

    def _begin_first(self) -> bool:
        """Whether the deferred BEGIN must run ahead of the next job (and clear it)."""
        pending, self._begin_pending = self._begin_pending, False
        return pending

    async def run(self, sql: str, parameters: Any, *, many: bool = False) -> _Outcome | None:
        """Execute one statement in one hop; None for a BEGIN deferred to the next one."""
        if not many and sql == _BEGIN and not parameters:
            self._begin_pending = True
            return None
        begin = self._begin_first()
        conn = self._conn

        def job() -> _Outcome:
            if begin:
                conn.execute(_BEGIN)
            cursor = conn.cursor()
            try:
                if many:
                    cursor.executemany(sql, parameters)
                elif parameters is None:
                    cursor.execute(sql)
                else:
                    cursor.execute(sql, parameters)
                rows = cursor.fetchall() if cursor.description else []
                return _Outcome(cursor, rows)
            finally:
                cursor.close()

        return await self._call(job)  # type: ignore[no-any-return]

    def cursor(self) -> SqliteCursor:
        return SqliteCursor(self)

    async def commit(self) -> None:
        begin = self._begin_first()
        conn = self._conn
        if not begin and self._settled() and not conn.in_transaction:
            return

        def job() -> None:
            if begin:
                conn.execute(_BEGIN)
            conn.commit()

        await self._call(job)

    async def rollback(self) -> None:
        if self._begin_first():
            return  # the transaction never began: nothing to undo
        conn = self._conn
        if self._settled() and not conn.in_transaction:
            return
        await self._call(conn.rollback)  # the thread rolls back only what is open then

    def _settled(self) -> bool:
        """No job queued or running (a cancelled caller's statement may still run, and
        open a transaction): only then may the loop read the transaction state."""
        return self._progress.idle

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        conn = self._conn
        await self._call(lambda: conn.create_function(*args, **kwargs))

    async def close(self) -> None:
        if self._connection is None:
            return
        conn, self._connection = self._connection, None
        await self._call(lambda: _closed(conn))

    def stop(self) -> asyncio.Future[Any] | None:
        """Close without waiting (the pool's terminate)."""
        conn, self._connection = self._connection, None
        try:
            future: asyncio.Future[Any] | None = asyncio.get_running_loop().create_future()
        except RuntimeError:
            future = None
        self._tx.put_nowait((future, lambda: _closed(conn)))
        return future


def _closed(conn: sqlite3.Connection | None) -> object:
    if conn is not None:
        conn.close()
    return _STOP


class SqliteCursor:
    """A cursor whose statement runs, and whose rows arrive, in one hop."""

    __slots__ = ("_connection", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> SqliteCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def _take(self, outcome: _Outcome | None) -> None:
        if outcome is None:
            self.description, self.rowcount, self._rows = None, -1, []
            return
        self.description = outcome.description
        self.rowcount = outcome.rowcount
        self.lastrowid = outcome.lastrowid
        self._rows = outcome.rows

    async def execute(self, sql: str, parameters: Any = None) -> SqliteCursor:
        self._take(await self._connection.run(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> SqliteCursor:
        self._take(await self._connection.run(sql, list(parameters), many=True))
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []


async def connect(database: str, **kwargs: Any) -> SqliteConnection:
    """Open ``database`` on its own thread (``kwargs`` as for ``sqlite3.connect``)."""
    options = {**kwargs, "check_same_thread": False}
    return await SqliteConnection(lambda: sqlite3.connect(database, **options)).open()
