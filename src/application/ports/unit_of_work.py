"""The transaction boundary: one ``async with uow:`` block is one database transaction."""

from __future__ import annotations

from abc import abstractmethod
from types import TracebackType
from typing import Protocol, Self

from application.ports.conversations import ConversationRepository, MessageRepository
from application.ports.identity import ApiKeyRepository, AuthSessionRepository, UserRepository
from application.ports.jobs import JobRepository
from application.ports.message_vectors import MessageVectorRepository
from application.ports.notifications import NotificationRepository
from application.ports.usage_ledger import RouteStatsRepository, UsageRepository


class UnitOfWork(Protocol):
    """Repositories sharing one transaction. Leaving the block without ``commit`` rolls back.

    Errors from storage surface as ``domain.errors.Unavailable`` (database down) or
    ``domain.errors.Conflict`` (a uniqueness rule was broken).
    """

    users: UserRepository
    api_keys: ApiKeyRepository
    auth_sessions: AuthSessionRepository
    conversations: ConversationRepository
    messages: MessageRepository
    message_vectors: MessageVectorRepository
    usage: UsageRepository
    route_stats: RouteStatsRepository
    jobs: JobRepository
    notifications: NotificationRepository

    @abstractmethod
    async def __aenter__(self) -> Self: ...

    @abstractmethod
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh UnitOfWork; for work that outlives a request (generations, jobs)."""

    @abstractmethod
    def __call__(self) -> UnitOfWork: ...

    def single_statement(self) -> UnitOfWork:
        """For work that is one statement (storing a finished reply, renewing leases): it
        commits on its own, without the BEGIN and COMMIT round trips of a transaction.
        ``commit`` is still called, and is then free."""
        return self()
