"""The job handler interface: one handler per kind, looked up by the registry.

A handler is a use case like any other: it gets the params (already validated by its own
``validate``), the owner, a progress reporter and a cancel check, and returns the result
stored on the job. Delivery is at least once, so a handler's visible effects must be
idempotent (overwrite, keyed by the job or its target), never appended twice.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from application.ports.unit_of_work import UnitOfWork
from domain.jobs import JobKindUnavailable, UnknownJobKind


@dataclass(frozen=True, slots=True)
class JobContext:
    job_id: UUID
    owner_id: UUID
    params: Mapping[str, Any]
    attempt: int
    report_progress: Callable[[float], Awaitable[None]]
    """Store progress in 0..1 (monotonic; lower values are ignored)."""
    cancel_requested: Callable[[], bool]
    """True once the owner asked to cancel; the runner also cancels the handler's task."""


class JobHandler(Protocol):
    kind: str
    admin_only: bool
    """Only admins may submit it (others: 403)."""
    internal: bool
    """Submitted by the system, never by a client; not listed, not counted."""

    @abstractmethod
    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The normalised params, or InvalidInput naming the bad field (nothing is queued)."""

    async def check(self, uow: UnitOfWork, owner_id: UUID, params: Mapping[str, Any]) -> None:
        """At submit time, refuse what would surely fail (someone else's target: 404)."""
        return None

    @abstractmethod
    async def run(self, context: JobContext) -> dict[str, Any]:
        """Do the work; the returned dict is the job's ``result``."""


class PendingHandler(JobHandler):
    """A kind the contract names whose use case is not in this build: refused at submit
    time with a clear code, and failed with the same code if one is ever delivered."""

    admin_only = False
    internal = False

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        raise JobKindUnavailable(f"{self.kind!r} jobs are not available in this version")

    async def run(self, context: JobContext) -> dict[str, Any]:
        raise JobKindUnavailable(f"{self.kind!r} jobs are not available in this version")


class JobHandlers:
    """Kind -> handler. A later handler for the same kind replaces an earlier one, so a
    feature that lands (export, import) replaces its ``PendingHandler`` by registering."""

    def __init__(self, handlers: Iterable[JobHandler]) -> None:
        self._by_kind: dict[str, JobHandler] = {}
        for handler in handlers:
            self._by_kind[handler.kind] = handler

    def get(self, kind: str) -> JobHandler:
        handler = self._by_kind.get(kind)
        if handler is None:
            raise UnknownJobKind(
                f"unknown job kind {kind[:40]!r}",
                details={"field": "kind", "allowed": self.public_kinds()},
            )
        return handler

    def public_kinds(self) -> list[str]:
        return sorted(k for k, h in self._by_kind.items() if not h.internal)

    def kinds(self) -> list[str]:
        return sorted(self._by_kind)
