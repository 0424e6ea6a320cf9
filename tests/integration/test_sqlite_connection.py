"""The embedded SQLite engine's connection (one thread hop per statement): transactions
keep their meaning, a writer waiting for the lock never blocks the event loop, and errors
reach the statement that caused them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.database import create_engine
from adapters.persistence.sqlite_connection import SqliteConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", pool_size=3)
    async with made.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield made
    await made.dispose()


async def test_the_engine_uses_the_one_hop_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, SqliteConnection)


async def test_rows_rowcount_and_lastrowid_come_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert inserted.lastrowid == 1
        many = await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])
        assert many.rowcount == 2
        updated = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await conn.execute(text("UPDATE t SET v = 'z' WHERE id = 1 RETURNING id, v"))
        assert returned.all() == [(1, "z")]
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert rows == ["z", "b!", "c!"]


async def test_a_rolled_back_transaction_leaves_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        async with conn.begin() as tx:
            await conn.execute(text("INSERT INTO t (v) VALUES ('gone')"))
            await tx.rollback()
        async with conn.begin() as tx:  # began, nothing run: the rollback has no work
            await tx.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_a_transaction_with_no_statement_still_commits(engine: AsyncEngine) -> None:
    async with engine.begin():
        pass
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('after')"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1


async def test_an_error_is_raised_by_its_statement_and_the_transaction_survives_it(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('dup')"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (v) VALUES ('dup')"))
        with pytest.raises(OperationalError):
            await conn.execute(text("SELECT nope FROM t"))
        await conn.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert rows == ["dup", "kept"]


async def test_a_writer_waiting_for_the_lock_leaves_the_event_loop_free(
    engine: AsyncEngine,
) -> None:
    """Every transaction takes the write lock when it begins (with its first statement):
    the second writer waits for the first to commit, on its own thread, while the loop
    keeps running other work; both writes land, in order."""
    first_holds = asyncio.Event()
    release_first = asyncio.Event()
    ticks = 0

    async def first() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('first')"))
            first_holds.set()
            await release_first.wait()

    async def second() -> None:
        await first_holds.wait()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('second')"))

    async def ticker() -> None:
        nonlocal ticks
        while not release_first.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(c) for c in (first(), second(), ticker())]
    await first_holds.wait()
    await asyncio.sleep(0.3)  # the second writer is now waiting for the lock
    assert not tasks[1].done()
    release_first.set()
    await asyncio.gather(*tasks)
    assert ticks >= 10, "the loop stalled while a writer waited"
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert rows == ["first", "second"]


async def test_a_cancelled_statement_does_not_break_the_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, SqliteConnection)
        slow = asyncio.create_task(
            raw.run("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                    "WHERE x < 300000) SELECT count(*) FROM c", None)
        )  # fmt: skip
        await asyncio.sleep(0)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        again = await raw.run("SELECT 41 + 1", None)
        assert again is not None and again.rows == [(42,)]


async def test_a_rollback_after_a_cancelled_statement_undoes_it(engine: AsyncEngine) -> None:
    """The cancelled caller's statement still runs on the thread and opens the transaction;
    the rollback that follows must wait for it and undo it, or the connection would go back
    to the pool holding the write lock."""
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, SqliteConnection)
        raw.begin_immediate()
        slow = asyncio.create_task(
            raw.run("INSERT INTO t (v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                    "SELECT x + 1 FROM c WHERE x < 200000) SELECT 'r' || x FROM c", None)
        )  # fmt: skip
        await asyncio.sleep(0)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        await raw.rollback()
        assert not raw.in_transaction
    async with asyncio.timeout(5):  # another connection gets the write lock at once
        async with engine.begin() as other:
            await other.execute(text("INSERT INTO t (v) VALUES ('next')"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
