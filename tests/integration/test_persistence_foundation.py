"""The persistence layer's own pieces on both backends: the UUID and UTC-timestamp column
types (stored as earlier releases stored them) and the migration check that lets a
server start on a current database without loading Alembic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Column, MetaData, Table, literal, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    head_revisions,
    up_to_date,
    upgrade_if_needed,
)
from adapters.persistence.types import GUID, DateTimeUTC
from entrypoints.settings import Settings


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    made = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    yield made
    await made.dispose()


async def test_uuid_and_utc_timestamp_round_trip(engine: AsyncEngine) -> None:
    value = uuid4()
    moment = datetime(2026, 12, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    async with engine.connect() as conn:
        got_id = (await conn.execute(select(literal(value, GUID())))).scalar_one()
        stamp = select(literal(moment, DateTimeUTC(timezone=True)))
        got_at = (await conn.execute(stamp)).scalar_one()
    assert isinstance(got_id, UUID) and got_id == value
    assert got_at == moment and got_at.utcoffset() == timedelta(0)


async def test_a_naive_timestamp_is_refused(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(StatementError, match="timezone-aware"):
            await conn.execute(select(literal(datetime(2026, 12, 1), DateTimeUTC(timezone=True))))


async def test_sqlite_storage_is_the_uuid_bytes_and_a_utc_timestamp(tmp_path: Path) -> None:
    """What earlier releases wrote to SQLite: 16 raw bytes, and the UTC wall time."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'types.db'}")
    table = Table(
        "t", MetaData(), Column("id", GUID(length=16)), Column("at", DateTimeUTC(timezone=True))
    )
    value = uuid4()
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
            await conn.execute(
                table.insert().values(
                    id=value, at=datetime(2026, 12, 1, 16, 0, tzinfo=timezone(timedelta(hours=2)))
                )
            )
            raw = (await conn.execute(text("SELECT id, at FROM t"))).one()
            typed = (await conn.execute(select(table.c.id, table.c.at))).one()
    finally:
        await engine.dispose()
    assert raw == (value.bytes, "2026-12-01 14:00:00.000000")
    assert typed == (value, datetime(2026, 12, 1, 14, 0, tzinfo=UTC))


def test_the_head_read_from_the_scripts_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from adapters.persistence.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert head_revisions() == frozenset(heads)
    assert (MIGRATIONS_DIR / "versions").is_dir()


async def test_a_fresh_database_is_migrated_once_then_found_current(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await current_revision(engine) is None
        assert not await up_to_date(engine)
        (head,) = head_revisions()
        assert await upgrade_if_needed(engine) == head
        assert await up_to_date(engine)
        assert await upgrade_if_needed(engine) == head  # nothing to apply the second time
    finally:
        await engine.dispose()


async def test_the_suites_migrated_database_is_current(engine: AsyncEngine) -> None:
    assert await up_to_date(engine)
