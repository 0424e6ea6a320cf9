"""health history: periodic component checks, one slot claim per interval

Revision ID: 0005_health_history
Revises: 0005_notifications
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.persistence.types import DateTimeUTC

revision = "0005_health_history"
down_revision = "0005_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_check_slots",
        sa.Column("slot_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("instance", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("slot_at", name="pk_health_check_slots"),
    )
    op.create_table(
        "health_checks",
        sa.Column("slot_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("component", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=True),
        # slot_at leads: reads and pruning are time ranges.
        sa.PrimaryKeyConstraint("slot_at", "component", name="pk_health_checks"),
    )


def downgrade() -> None:
    op.drop_table("health_checks")
    op.drop_table("health_check_slots")
