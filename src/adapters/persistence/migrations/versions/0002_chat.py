"""chat: conversations, messages

Revision ID: 0002_chat
Revises: 0001_identity
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.persistence.types import GUID, DateTimeUTC

revision = "0002_chat"
down_revision = "0001_identity"
branch_labels = None
depends_on = None

STREAMING_ONLY = sa.text("status = 'streaming'")


def _sentinel() -> sa.Column[int]:
    # advanced-alchemy's base models declare this insert-sentinel column.
    return sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column(
            "owner_id",
            GUID(length=16),
            sa.ForeignKey("users.id", name="fk_conversations_owner_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        _sentinel(),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
    )
    op.create_index(
        "ix_conversations_owner_id_updated_at",
        "conversations",
        ["owner_id", "updated_at", "id"],
    )
    op.create_table(
        "messages",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column(
            "conversation_id",
            GUID(length=16),
            sa.ForeignKey(
                "conversations.id",
                name="fk_messages_conversation_id_conversations",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("model", sa.String(100), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_nano_usd", sa.BigInteger(), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("generation_id", GUID(length=16), nullable=True),
        sa.Column("lease_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        _sentinel(),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint(
            "conversation_id", "position", name="uq_messages_conversation_position"
        ),
    )
    op.create_index(
        "ix_messages_streaming_lease",
        "messages",
        ["lease_until"],
        postgresql_where=STREAMING_ONLY,
        sqlite_where=STREAMING_ONLY,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_streaming_lease", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_conversations_owner_id_updated_at", table_name="conversations")
    op.drop_table("conversations")
