"""search: message vectors (the vector index's source of truth)

Revision ID: 0003_search
Revises: 0002_chat
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0003_search"
down_revision = "0002_chat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_vectors",
        sa.Column(
            "key",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            primary_key=True,
        ),
        sa.Column("message_id", GUID(), nullable=False),
        sa.Column("conversation_id", GUID(), nullable=False),
        sa.Column("owner_id", GUID(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", DateTimeUTC(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("key", name="pk_message_vectors"),
        sa.UniqueConstraint("message_id", "model", name="uq_message_vectors_message_model"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_message_vectors_model_owner", "message_vectors", ["model", "owner_id"])
    op.create_index("ix_message_vectors_conversation", "message_vectors", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("message_vectors")
