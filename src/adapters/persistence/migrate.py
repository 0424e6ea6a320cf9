"""Apply Alembic migrations on a live async engine (SQLite or PostgreSQL).

Alembic and the migration scripts are imported only when there is something to apply:
``up_to_date`` compares the database's recorded revision with the scripts' head, read
from the scripts' source text, so a server starting on a current database (the usual
case) pays neither.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def head_revisions() -> frozenset[str]:
    """The revisions no other script builds on, from each script's ``revision`` and
    ``down_revision`` assignments (parsed, not imported)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        values = _assignments(script, ("revision", "down_revision"))
        if isinstance(values.get("revision"), str):
            revisions.add(values["revision"])  # type: ignore[arg-type]
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(d for d in down if isinstance(d, str))
    return frozenset(revisions - parents)


def _assignments(script: Path, names: tuple[str, ...]) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id in names and value is not None:
            found[target.id] = ast.literal_eval(value)
    return found


async def recorded_revisions(engine: AsyncEngine) -> frozenset[str]:
    """The revisions the database says it is at; empty if it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_read_versions)


def _read_versions(connection: Connection) -> frozenset[str]:
    if not connection.dialect.has_table(connection, VERSION_TABLE):
        return frozenset()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return frozenset(str(row[0]) for row in rows)


async def up_to_date(engine: AsyncEngine) -> bool:
    return await recorded_revisions(engine) == head_revisions()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def upgrade_if_needed(engine: AsyncEngine) -> str | None:
    """Bring the database to the head revision unless it is there already; the revision
    it is at afterwards."""
    revisions = await recorded_revisions(engine)
    if revisions != head_revisions():
        await upgrade(engine)
        revisions = await recorded_revisions(engine)
    return _single(revisions)


async def current_revision(engine: AsyncEngine) -> str | None:
    return _single(await recorded_revisions(engine))


def _single(revisions: frozenset[str]) -> str | None:
    if len(revisions) > 1:
        raise RuntimeError(f"database has several migration heads: {sorted(revisions)}")
    return next(iter(revisions), None)


async def migrate_database(database_url: str, *, connect_timeout_s: float) -> str | None:
    """Bring the database at ``database_url`` to the head revision on an engine of its own:
    a migration may run longer than the per-statement bound requests get."""
    from adapters.persistence.database import create_engine

    engine = create_engine(
        database_url,
        pool_size=1,
        max_overflow=0,
        connect_timeout_s=connect_timeout_s,
        command_timeout_s=None,
    )
    try:
        return await upgrade_if_needed(engine)
    finally:
        await engine.dispose()
