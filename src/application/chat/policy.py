"""The limits chat enforces, read from settings once and handed to the use cases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatPolicy:
    max_message_chars: int = 32_000
    """Longest message (and system prompt) accepted; longer is a 400 before any LLM call."""
    server_max_tokens: int = 1024
    """Cap on completion tokens, whatever the client asks for."""
    history_messages: int = 200
    """Most recent messages considered when fitting the context window."""
    lease_s: float = 5.0
    """A running generation's lease: renewed every third of it, and a lapsed one means the
    process behind it is gone (orphaned)."""
    store_attempts: int = 3
    """Tries to store a finished reply while the database is briefly unavailable."""
