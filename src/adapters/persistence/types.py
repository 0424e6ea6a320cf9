"""The two column types every table uses, on both backends.

``GUID``: PostgreSQL's native ``uuid``; elsewhere (SQLite) the 16 raw bytes in a
``BINARY(16)`` column. ``DateTimeUTC``: a timezone-aware timestamp, stored as UTC and read
back aware on every backend (SQLite keeps no offset, so a value read there is marked UTC).

Both store exactly what advanced-alchemy's types of the same names stored, so databases
created by earlier releases read and write unchanged; the migrations use them too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.engine import Dialect
from sqlalchemy.types import BINARY, DateTime, TypeDecorator, TypeEngine

_NATIVE_UUID = frozenset({"postgresql"})


class GUID(TypeDecorator[UUID]):
    """A UUID: native on PostgreSQL, 16 bytes elsewhere. Accepts a UUID, its hex string or
    its 16 bytes when binding; always gives back a ``uuid.UUID``."""

    impl = BINARY(16)
    cache_ok = True

    def __init__(self, length: int = 16) -> None:
        # ``length`` is accepted for the migrations' spelling, ``GUID(length=16)``; the
        # binary form is always 16 bytes.
        super().__init__()

    @property
    def python_type(self) -> type[UUID]:
        return UUID

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in _NATIVE_UUID:
            return dialect.type_descriptor(PG_UUID())
        return dialect.type_descriptor(BINARY(16))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name in _NATIVE_UUID:
            return str(value)
        return _as_uuid(value).bytes

    def process_result_value(self, value: Any, dialect: Dialect) -> UUID | None:
        return None if value is None else _as_uuid(value)

    def compare_values(self, x: Any, y: Any) -> bool:
        return bool(x == y)


def _as_uuid(value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        return UUID(value)
    return UUID(bytes=bytes(value))


class DateTimeUTC(TypeDecorator[datetime]):
    """A timezone-aware datetime kept in UTC. A naive value is refused when binding (its
    meaning would depend on the server's zone); a naive value read back is UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise TypeError("a timezone-aware datetime is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)
