"""search: message vectors (the vector index's source of truth) and full-text search

PostgreSQL: a GIN index on ``to_tsvector('english', content)`` of ``messages`` (an
expression index: chat's table is not altered; queries repeat the same expression).
SQLite: an FTS5 table kept in sync by triggers on ``messages``. FTS5 needs an integer
rowid per message and ``messages`` has UUID keys (its implicit rowid may change on
VACUUM or a table rebuild), so ``message_fts_rows`` assigns each message a stable one.

Revision ID: 0003_search
Revises: 0002_chat
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.persistence.types import GUID, DateTimeUTC

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
        sa.Column(
            "message_id",
            GUID(length=16),
            # A deleted message (or conversation, or user) takes its vectors with it.
            sa.ForeignKey("messages.id", name="fk_message_vectors_message_id", ondelete="CASCADE"),
            nullable=False,
        ),
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
    op.create_index("ix_message_vectors_message", "message_vectors", ["message_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_messages_content_fts ON messages "
            "USING gin (to_tsvector('english', content))"
        )
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_content_fts")
    else:
        for name in ("messages_fts_insert", "messages_fts_update", "messages_fts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
        op.execute("DROP TABLE IF EXISTS message_fts_rows")
    op.drop_table("message_vectors")


_FTS_ROW = "(SELECT fts_rowid FROM message_fts_rows WHERE message_id = {side}.id)"
_NEW_ROW = _FTS_ROW.format(side="new")

SQLITE_FTS = [
    "CREATE TABLE message_fts_rows ("
    " fts_rowid INTEGER PRIMARY KEY AUTOINCREMENT,"
    " message_id BLOB NOT NULL UNIQUE)",
    # porter: "baking" finds "baked"; remove_diacritics: "cafe" finds "café".
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    " content, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    " INSERT INTO message_fts_rows (message_id) VALUES (new.id);"
    f" INSERT INTO messages_fts (rowid, content) VALUES ({_NEW_ROW}, new.content);"
    " END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN"
    f" DELETE FROM messages_fts WHERE rowid = {_FTS_ROW.format(side='old')};"
    f" INSERT INTO messages_fts (rowid, content) VALUES ({_NEW_ROW}, new.content);"
    " END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    f" DELETE FROM messages_fts WHERE rowid = {_FTS_ROW.format(side='old')};"
    " DELETE FROM message_fts_rows WHERE message_id = old.id;"
    " END",
    # Messages stored before this migration join the index too.
    "INSERT INTO message_fts_rows (message_id) SELECT id FROM messages",
    "INSERT INTO messages_fts (rowid, content)"
    " SELECT r.fts_rowid, m.content FROM message_fts_rows r JOIN messages m ON m.id = r.message_id",
]
