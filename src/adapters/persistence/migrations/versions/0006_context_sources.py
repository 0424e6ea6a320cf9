"""context sources: a conversation's grounding sources, a reply's per-source results

Revision ID: 0006_context_sources
Revises: 0005_health_history
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_context_sources"
down_revision = "0005_health_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without defaults: a metadata-only ALTER on SQLite and PostgreSQL.
    op.add_column("conversations", sa.Column("context_sources", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("context", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "context")
    op.drop_column("conversations", "context_sources")
