"""Opaque list cursors for keyset pagination by a UUID (``?cursor=``)."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from domain.errors import InvalidInput

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{22}$"
"""What every cursor of this kind looks like (a UUID in unpadded base64url): documented,
so a client or a schema-driven test knows which strings can be cursors at all."""


def encode_cursor(after: UUID) -> str:
    return base64.urlsafe_b64encode(after.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> UUID | None:
    """None for the first page; a malformed cursor is a 400 naming the field."""
    if not cursor:
        return None
    try:
        return UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidInput(
            "invalid cursor", details={"fields": [{"field": "cursor", "message": "invalid"}]}
        ) from None
