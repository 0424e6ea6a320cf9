"""API keys: long-lived bearer credentials a user creates for scripts and OpenAI clients.

The secret (``pk_...``) is shown once at creation; only its SHA-256 digest and a short
display prefix are stored, so a database leak does not leak usable keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from domain.errors import NotFound
from domain.users import field_error

API_KEY_PREFIX: Final = "pk_"
MAX_KEY_NAME_LENGTH: Final = 100


class ApiKeyNotFound(NotFound):
    code = "API_KEY_NOT_FOUND"
    title = "API key not found"


def clean_key_name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > MAX_KEY_NAME_LENGTH:
        raise field_error("name", f"1 to {MAX_KEY_NAME_LENGTH} characters")
    if any(ord(ch) < 32 for ch in name):
        raise field_error("name", "control characters are not allowed")
    return name


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: never the secret itself, only its digest and display prefix."""

    id: UUID
    user_id: UUID
    name: str
    prefix: str
    key_hash: str
    created_at: datetime
