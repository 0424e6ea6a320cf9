"""jobs: the background job records; conversations.summary and auto_title

Revision ID: 0007_jobs
Revises: 0006_context_sources
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.persistence.types import GUID, DateTimeUTC

revision = "0007_jobs"
down_revision = "0006_context_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column(
            "owner_id",
            GUID(length=16),
            sa.ForeignKey("users.id", name="fk_jobs_owner_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("started_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        # advanced-alchemy's base models declare this insert-sentinel column.
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_owner_id_created_at", "jobs", ["owner_id", "created_at", "id"])
    queued = sa.text("status = 'queued'")
    running = sa.text("status = 'running'")
    op.create_index(
        "ix_jobs_queued", "jobs", ["created_at"], postgresql_where=queued, sqlite_where=queued
    )
    op.create_index(
        "ix_jobs_running_lease",
        "jobs",
        ["lease_until"],
        postgresql_where=running,
        sqlite_where=running,
    )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))
        # Existing conversations are past their first exchange: no background title.
        batch.add_column(
            sa.Column("auto_title", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("auto_title")
        batch.drop_column("summary")
    op.drop_index("ix_jobs_running_lease", table_name="jobs")
    op.drop_index("ix_jobs_queued", table_name="jobs")
    op.drop_index("ix_jobs_owner_id_created_at", table_name="jobs")
    op.drop_table("jobs")
