"""chat: conversations, messages

Revision ID: 0002_chat
Revises: 0001_identity
Create Date: 2026-11-24
"""

from __future__ import annotations

revision = "0002_chat"
down_revision = "0001_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
