"""identity: users, api keys, auth sessions

Revision ID: 0001_identity
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.persistence.types import GUID, DateTimeUTC

revision = "0001_identity"
down_revision = None
branch_labels = None
depends_on = None


def _sentinel() -> sa.Column[int]:
    # advanced-alchemy's base models declare this insert-sentinel column; keep the schema
    # identical to the models so batched inserts can use it.
    return sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        _sentinel(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column(
            "user_id",
            GUID(length=16),
            sa.ForeignKey("users.id", name="fk_api_keys_user_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        _sentinel(),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "auth_sessions",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column(
            "user_id",
            GUID(length=16),
            sa.ForeignKey("users.id", name="fk_auth_sessions_user_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("refresh_jti", sa.String(64), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("revoked_at", DateTimeUTC(timezone=True), nullable=True),
        _sentinel(),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_auth_sessions_user_id", table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_index("ix_api_keys_user_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("users")
