"""The public shapes of conversations and messages, shared by every transport (REST, SSE,
WebSocket, CLI) so a message looks the same wherever it is read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from domain.conversations import Conversation
from domain.messages import Message

_MONEY_PLACES = Decimal("1e-10")


class UsageView(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ContextItemView(msgspec.Struct, omit_defaults=True):
    text: str
    title: str | None = None
    url: str | None = None


class SourceResultView(msgspec.Struct, omit_defaults=True):
    source: str
    status: str
    """``ok``, ``unavailable`` or ``timeout``."""
    items: list[ContextItemView]
    detail: str | None = None


class MessageView(msgspec.Struct):
    id: UUID
    conversation_id: UUID
    role: str
    content: str
    status: str
    model: str | None
    usage: UsageView | None
    cost_usd: str  # a decimal number as a string, so no precision is lost in JSON
    error_code: str | None
    created_at: datetime
    generation_id: UUID | None = None
    """Set on assistant replies: follow or resume one still ``streaming`` with its events."""
    context: list[SourceResultView] | None = None
    """A grounded reply: each context source's status and the items it gave; else null."""


class ConversationView(msgspec.Struct):
    id: UUID
    title: str
    model: str
    system_prompt: str | None
    archived: bool
    message_count: int
    created_at: datetime
    updated_at: datetime
    context_sources: list[str] = msgspec.field(default_factory=list)
    """Context sources asked before each turn (grounded replies)."""


def money(amount: Decimal) -> str:
    return format(amount.quantize(_MONEY_PLACES).normalize(), "f")


def message_view(message: Message) -> MessageView:
    usage = message.usage
    return MessageView(
        id=message.id,
        conversation_id=message.conversation_id,
        role=message.role.value,
        content=message.content,
        status=message.status.value,
        model=message.model,
        usage=UsageView(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
        if usage
        else None,
        cost_usd=money(message.cost_usd),
        error_code=message.error_code,
        created_at=message.created_at,
        generation_id=message.generation_id,
        context=None
        if message.context is None
        else [
            SourceResultView(
                r.source,
                r.status,
                [ContextItemView(i.text, i.title, i.url) for i in r.items],
                r.detail,
            )
            for r in message.context
        ],
    )


def message_data(message: Message) -> dict[str, Any]:
    """The message as plain JSON data (for generation-log events)."""
    data: dict[str, Any] = msgspec.to_builtins(message_view(message))
    return data


def conversation_view(conversation: Conversation) -> ConversationView:
    return ConversationView(
        id=conversation.id,
        title=conversation.title,
        model=conversation.model,
        system_prompt=conversation.system_prompt,
        archived=conversation.archived,
        message_count=conversation.message_count,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        context_sources=list(conversation.context_sources),
    )
