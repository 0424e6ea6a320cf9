"""Base for in-memory unit-of-work fakes used by the unit tests."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from application.ports.unit_of_work import UnitOfWork


class DirectUnitOfWork(UnitOfWork):
    """Fake repositories apply changes at once, so entering, leaving and rolling back do
    nothing; commits are counted so tests can assert a use case committed."""

    commits: int = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        return None
