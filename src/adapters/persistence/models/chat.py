"""Chat tables: conversations, messages (filled by the chat work)."""
