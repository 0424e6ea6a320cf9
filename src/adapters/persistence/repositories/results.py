"""Small helpers over SQLAlchemy results shared by the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import CursorResult


def rowcount(result: Any) -> int:
    """Rows a DML statement touched; 0 for a result that carries no count."""
    return result.rowcount if isinstance(result, CursorResult) else 0
