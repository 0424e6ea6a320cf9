"""Search tables: ``message_vectors`` (the vector source of truth) and, on SQLite, the
FTS5 table ``messages_fts`` kept in sync by triggers (created in migration 0003_search)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.models.base import DefaultBase
from adapters.persistence.types import GUID, DateTimeUTC

# SQLite only makes INTEGER PRIMARY KEY the rowid; AUTOINCREMENT stops key reuse, which
# matters because an index replica may still hold a deleted key.
KEY_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class MessageVectorRow(DefaultBase):
    """One message's embedding under one embedder model; ``key`` is the index key."""

    __tablename__ = "message_vectors"
    __table_args__ = (
        UniqueConstraint("message_id", "model", name="uq_message_vectors_message_model"),
        Index("ix_message_vectors_model_owner", "model", "owner_id"),
        Index("ix_message_vectors_conversation", "conversation_id"),
        Index("ix_message_vectors_message", "message_id"),
        {"sqlite_autoincrement": True},
    )

    key: Mapped[int] = mapped_column(KEY_TYPE, Identity(), primary_key=True)
    message_id: Mapped[UUID] = mapped_column(
        GUID(length=16), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False
    )
    conversation_id: Mapped[UUID] = mapped_column(GUID, nullable=False)
    owner_id: Mapped[UUID] = mapped_column(GUID, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    dim: Mapped[int] = mapped_column(Integer, nullable=False)
    vector: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTimeUTC(timezone=True), nullable=False, server_default=func.now()
    )
