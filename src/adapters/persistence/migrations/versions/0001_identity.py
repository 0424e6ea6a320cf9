"""identity: users, api keys, auth sessions

Revision ID: 0001_identity
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

revision = "0001_identity"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
