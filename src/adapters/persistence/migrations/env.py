"""Alembic environment. Parley runs it with a live connection (see ``migrate.py``)."""

from __future__ import annotations

from alembic import context

from adapters.persistence.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `parley migrate` (adapters.persistence.migrate)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline SQL generation is not supported; run `parley migrate`")
run_migrations_online()
