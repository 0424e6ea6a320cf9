"""Identity tables: users, api_keys, auth_sessions (filled by the identity work)."""
