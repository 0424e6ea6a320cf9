"""Search over a user's own messages: semantic, text and hybrid."""
