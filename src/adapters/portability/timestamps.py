"""Foreign timestamps to aware UTC datetimes; anything unreadable is ``None``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

_MS_THRESHOLD = 100_000_000_000  # epoch seconds reach this in the year 5138; larger is ms


def from_epoch(value: Any) -> datetime | None:
    """Epoch seconds (ChatGPT, Open WebUI); values this large are taken as milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    seconds = float(value)
    if abs(seconds) >= _MS_THRESHOLD:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_iso(value: Any) -> datetime | None:
    """ISO 8601 (Claude, Parley); a naive one is taken as UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def from_any(value: Any) -> datetime | None:
    return from_iso(value) if isinstance(value, str) else from_epoch(value)
