"""usage: daily spending aggregates and per-route request statistics

Revision ID: 0004_usage
Revises: 0003_search
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.persistence.types import GUID, DateTimeUTC

revision = "0004_usage"
down_revision = "0003_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column(
            "user_id",
            GUID(length=16),
            sa.ForeignKey("users.id", name="fk_usage_daily_user_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("api_key_id", GUID(length=16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_nano_usd", sa.BigInteger(), nullable=False),
        # (user, day) leads: every read is one user's date range.
        sa.PrimaryKeyConstraint("user_id", "day", "model", "api_key_id", name="pk_usage_daily"),
    )
    op.create_table(
        "route_stats_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("instance", sa.String(32), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("buckets", sa.Text(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "instance", "method", "route", name="pk_route_stats_daily"),
    )


def downgrade() -> None:
    op.drop_table("route_stats_daily")
    op.drop_table("usage_daily")
