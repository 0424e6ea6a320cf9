"""import sources: where an imported conversation came from; kept reasoning of replies

Revision ID: 0008_import_sources
Revises: 0004_usage
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_import_sources"
down_revision = "0007_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("source_kind", sa.String(32), nullable=True))
        batch.add_column(sa.Column("source_id", sa.String(200), nullable=True))
    # Unique per owner; NULLs (conversations started here) never collide on either backend.
    op.create_index(
        "uq_conversations_owner_source",
        "conversations",
        ["owner_id", "source_kind", "source_id"],
        unique=True,
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reasoning", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("reasoning")
    op.drop_index("uq_conversations_owner_source", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("source_id")
        batch.drop_column("source_kind")
