"""Request bodies and list shapes of the chat API (single objects are the application views)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from application.chat.views import ConversationView, MessageView

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# Blank ones are refused by the domain with its own codes (INVALID_TITLE, MESSAGE_EMPTY);
# the OpenAPI document states it (openapi_contract).
Content = Annotated[str, msgspec.Meta(min_length=1)]
ModelId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
SourceNames = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(max_length=8)
]


ResponseTimeMs = Annotated[
    int, msgspec.Meta(description="Milliseconds from receiving the message to the stored reply.")
]
Cached = Annotated[
    bool,
    msgspec.Meta(
        description="The reply was replayed from your completion cache (`X-Parley-Cache: on`, "
        "temperature 0, the same model and full prompt): no model was called, nothing spent."
    ),
]


class CreateConversationBody(msgspec.Struct):
    """Unknown fields (owner, id, counts, ...) are ignored: they are never client-settable."""

    title: Title | None = None
    model: ModelId | None = None
    system_prompt: str | None = None
    context_sources: SourceNames = msgspec.field(default_factory=list)
    """Names of configured context sources to ask before each turn."""


class UpdateConversationBody(msgspec.Struct):
    """Only the fields present change; ``system_prompt: null`` removes the prompt."""

    title: Title | UnsetType = UNSET
    model: ModelId | UnsetType = UNSET
    system_prompt: str | UnsetType | None = UNSET
    archived: bool | UnsetType = UNSET
    context_sources: SourceNames | UnsetType = UNSET
    """Replaces the list; `[]` stops grounding."""


class SendMessageBody(msgspec.Struct):
    content: Content
    model: ModelId | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    stream: bool = False


class StartTurnBody(msgspec.Struct):
    """``POST /api/v1/conversations/messages``: no ``conversation_id`` starts a new one."""

    content: Content
    conversation_id: UUID | None = None
    model: ModelId | None = None
    system_prompt: str | None = None
    """For a new conversation only."""
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    stream: bool = False


class ConversationList(msgspec.Struct):
    items: list[ConversationView]
    next_cursor: str | None


class MessageList(msgspec.Struct):
    items: list[MessageView]
    next_cursor: str | None


class SentMessageOut(msgspec.Struct):
    user_message: MessageView
    assistant_message: MessageView
    generation_id: UUID
    response_time_ms: ResponseTimeMs
    cached: Cached


class CancelAccepted(msgspec.Struct):
    generation_id: UUID
    status: str = "cancel_requested"


class StartedTurnOut(msgspec.Struct):
    conversation: ConversationView
    user_message: MessageView
    assistant_message: MessageView
    generation_id: UUID
    response_time_ms: ResponseTimeMs
    cached: Cached
