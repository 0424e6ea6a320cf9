"""Chat tables: conversations and their messages.

``messages.cost_nano_usd`` holds cost in units of 1e-9 USD: an integer is exact on every
backend (SQLite has no exact decimal type) and sums without rounding drift.
``messages.lease_until`` is set while a reply is ``streaming``: its runner renews it, and a
lapsed lease tells the orphan sweep the runner's process is gone.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.models.base import UUIDBase
from adapters.persistence.types import GUID, DateTimeUTC

STREAMING_ONLY = text("status = 'streaming'")


class ConversationRow(UUIDBase):
    __tablename__ = "conversations"
    __table_args__ = (
        # Serves "my conversations, newest activity first" with keyset pagination.
        Index("ix_conversations_owner_id_updated_at", "owner_id", "updated_at", "id"),
        # An imported conversation is stored once per owner: a second import skips it.
        Index("uq_conversations_owner_source", "owner_id", "source_kind", "source_id", unique=True),
    )

    owner_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(100))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    source_kind: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    auto_title: Mapped[bool] = mapped_column(Boolean, default=False)
    context_sources: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON list of source names; NULL when the conversation is not grounded."""


class MessageRow(UUIDBase):
    __tablename__ = "messages"
    __table_args__ = (
        # Position orders a conversation's messages and pages them; unique, so two writers
        # can never interleave a turn.
        UniqueConstraint("conversation_id", "position", name="uq_messages_conversation_position"),
        Index(
            "ix_messages_streaming_lease",
            "lease_until",
            postgresql_where=STREAMING_ONLY,
            sqlite_where=STREAMING_ONLY,
        ),
    )

    conversation_id: Mapped[UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_nano_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    generation_id: Mapped[UUID | None] = mapped_column(GUID(length=16))
    lease_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    reasoning: Mapped[str | None] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON per-source results of a grounded reply; NULL otherwise."""
