"""Chat repository ports (filled by the chat work)."""

from __future__ import annotations

from typing import Protocol


class ConversationRepository(Protocol):
    """A user's conversations."""


class MessageRepository(Protocol):
    """Messages of a conversation."""
