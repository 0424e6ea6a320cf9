"""A page of a cursor-paginated list: items plus an opaque cursor for the next page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import InvalidInput

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class InvalidCursor(InvalidInput):
    code = "INVALID_CURSOR"
    title = "Invalid cursor"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def page_size(requested: int | None) -> int:
    """Lists are always bounded: the default when absent, never above ``MAX_PAGE_SIZE``."""
    if requested is None:
        return DEFAULT_PAGE_SIZE
    return max(1, min(requested, MAX_PAGE_SIZE))
