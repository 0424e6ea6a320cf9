"""Opaque keyset cursors: base64url JSON that only the repository that wrote it reads."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.pagination import InvalidCursor

MAX_CURSOR_CHARS = 512


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The cursor's values; anything malformed (or tampered with) is ``InvalidCursor``."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is not one this API returned")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API returned") from None
    if not isinstance(values, dict) or set(values) != set(keys):
        raise InvalidCursor("the cursor is not one this API returned")
    return values


def encode_time_cursor(at: datetime, row_id: UUID, *, key: str = "c") -> str:
    """The keyset of a list ordered by a timestamp, then id (newest first)."""
    return encode_cursor({key: at.isoformat(), "i": str(row_id)})


def decode_time_cursor(cursor: str, *, key: str = "c") -> tuple[datetime, UUID]:
    values = decode_cursor(cursor, (key, "i"))
    try:
        return datetime.fromisoformat(values[key]), UUID(values["i"])
    except (TypeError, ValueError):
        raise InvalidCursor("the cursor is not one this API returned") from None
