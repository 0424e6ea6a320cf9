"""Context sources: ``http`` (a configured URL) and ``history`` (the user's own past prompts)."""
