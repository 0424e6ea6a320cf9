"""Parley's own export format, version 1: lossless JSON (documented in docs/export-format.md).

    {"format": "parley", "version": 1, "exported_at": "...Z",
     "conversations": [{"id", "title", "model", "system_prompt", "archived", "summary",
                        "created_at", "updated_at", "source": {"kind", "id"} | null,
                        "messages": [{"id", "role", "content", "status", "model",
                                      "usage": {"prompt_tokens", "completion_tokens"} | null,
                                      "cost_usd", "error_code", "created_at", "reasoning"}]}]}

The writer streams one conversation at a time; the reader (``translate``) takes one decoded
conversation object at a time from the incremental parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO
from uuid import UUID

import msgspec

from domain.conversations import Conversation, SourceRef
from domain.imports import ImportedConversation, ImportedMessage, ImportEntry, UnreadableEntry
from domain.messages import INTERRUPTED, Message, MessageStatus, Role, TokenUsage

KIND = "parley"
FORMAT = "parley"
VERSION = 1


class UsageV1(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int


class SourceV1(msgspec.Struct):
    kind: str
    id: str


class MessageV1(msgspec.Struct):
    id: UUID
    role: Role
    content: str
    status: MessageStatus
    created_at: datetime
    model: str | None = None
    usage: UsageV1 | None = None
    cost_usd: str = "0"
    error_code: str | None = None
    reasoning: str | None = None


class ConversationV1(msgspec.Struct):
    id: UUID
    title: str
    model: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageV1]
    system_prompt: str | None = None
    archived: bool = False
    summary: str | None = None
    source: SourceV1 | None = None


_encoder = msgspec.json.Encoder(decimal_format="string")


class ParleyWriter:
    """Writes the document around the conversations as they come, never holding them all."""

    def __init__(self, out: BinaryIO, exported_at: datetime) -> None:
        self._out = out
        self._first = True
        header = _encoder.encode({"format": FORMAT, "version": VERSION, "exported_at": exported_at})
        out.write(header[:-1] + b',"conversations":[')

    def add(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        if not self._first:
            self._out.write(b",\n")
        self._first = False
        self._out.write(_encoder.encode(conversation_v1(conversation, messages)))

    def close(self) -> None:
        self._out.write(b"]}\n")


def conversation_v1(conversation: Conversation, messages: Sequence[Message]) -> ConversationV1:
    source = conversation.source
    return ConversationV1(
        id=conversation.id,
        title=conversation.title,
        model=conversation.model,
        system_prompt=conversation.system_prompt,
        archived=conversation.archived,
        summary=getattr(conversation, "summary", None),
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        source=SourceV1(source.kind, source.id) if source else None,
        messages=[
            MessageV1(
                id=m.id,
                role=m.role,
                content=m.content,
                status=m.status,
                model=m.model,
                usage=UsageV1(m.usage.prompt_tokens, m.usage.completion_tokens)
                if m.usage
                else None,
                cost_usd=format(m.cost_usd.normalize(), "f"),
                error_code=m.error_code,
                created_at=m.created_at,
                reasoning=m.reasoning,
            )
            for m in messages
        ],
    )


def translate(raw: Any) -> ImportEntry:
    source_id = str(raw.get("id", "")) if isinstance(raw, dict) else ""
    try:
        item = msgspec.convert(raw, ConversationV1, strict=False)
        messages = tuple(_message(m) for m in item.messages)
    except (msgspec.ValidationError, InvalidOperation, TypeError, ValueError) as exc:
        title = raw.get("title") if isinstance(raw, dict) else None
        return UnreadableEntry(source_id, title if isinstance(title, str) else None, str(exc))
    # A conversation imported from elsewhere keeps that origin, so re-importing the
    # original file into the new account skips it too.
    source = SourceRef(item.source.kind, item.source.id) if item.source else None
    return ImportedConversation(
        source=source or SourceRef(KIND, str(item.id)),
        title=item.title,
        messages=messages,
        created_at=item.created_at,
        updated_at=item.updated_at,
        model=item.model,
        system_prompt=item.system_prompt,
        archived=item.archived,
        original_id=item.id,
    )


def _message(m: MessageV1) -> ImportedMessage:
    status, error = m.status, m.error_code
    if status is MessageStatus.STREAMING:  # exported mid-reply: nothing will ever finish it
        status, error = MessageStatus.FAILED, error or INTERRUPTED
    return ImportedMessage(
        role=m.role,
        content=m.content,
        created_at=m.created_at,
        model=m.model,
        status=status,
        usage=TokenUsage(m.usage.prompt_tokens, m.usage.completion_tokens) if m.usage else None,
        cost_usd=Decimal(m.cost_usd),
        error_code=error,
        reasoning=m.reasoning,
    )
