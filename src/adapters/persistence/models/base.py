"""Declarative bases of every table: one registry and metadata, constraint names by one
convention, ``uuid.UUID`` and ``datetime`` columns typed ``GUID`` and ``DateTimeUTC`` by
default.

``UUIDBase`` tables have a client-generated UUID primary key ``id`` and the nullable
``sa_orm_sentinel`` column (present in the earliest tables; never written or read by
statements, it only lets bulk inserts sort their RETURNING rows deterministically).
The tables, names and column types are the ones advanced-alchemy's bases produced, so
the existing migrations and databases match these models unchanged.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Date, MetaData
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    declared_attr,
    mapped_column,
    orm_insert_sentinel,
)

from adapters.persistence.types import GUID, DateTimeUTC

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DefaultBase(DeclarativeBase):
    """A table with the primary key it declares itself."""

    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        UUID: GUID,
        datetime: DateTimeUTC,
        date: Date,
    }


class UUIDBase(DefaultBase):
    """A table keyed by a random UUID ``id`` generated on insert."""

    __abstract__ = True

    id: Mapped[UUID] = mapped_column(default=uuid4, primary_key=True, sort_order=-100)

    @declared_attr
    def _sentinel(cls) -> Mapped[int]:
        return orm_insert_sentinel(name="sa_orm_sentinel")


metadata = DefaultBase.metadata
