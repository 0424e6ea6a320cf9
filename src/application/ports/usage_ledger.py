"""Persistence of usage: daily spending aggregates and per-route request statistics."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from domain.route_stats import RouteStats
from domain.usage import UsageEntry, UsageTotals


@dataclass(frozen=True, slots=True)
class PlatformCounts:
    users: int
    active_users: int
    conversations: int
    messages: int
    usage: UsageTotals


@dataclass(frozen=True, slots=True)
class UserCounts:
    conversations: int
    messages: int
    api_keys: int


class UsageRepository(Protocol):
    @abstractmethod
    async def add(self, entries: Sequence[UsageEntry]) -> None:
        """Add each entry to its (day, user, model, api key) row: one upsert each."""

    @abstractmethod
    async def entries(self, user_id: UUID, start: date, end: date) -> list[UsageEntry]:
        """The user's rows from ``start`` to ``end`` inclusive."""

    @abstractmethod
    async def totals_since(self, user_id: UUID, start: date) -> UsageTotals: ...

    @abstractmethod
    async def platform_counts(self) -> PlatformCounts: ...

    @abstractmethod
    async def user_counts(self, user_id: UUID) -> UserCounts: ...


class RouteStatsRepository(Protocol):
    @abstractmethod
    async def save(self, instance: str, stats: Sequence[RouteStats]) -> None:
        """Replace this instance's rows for these (day, method, route) keys."""

    @abstractmethod
    async def load(self, start: date, end: date) -> list[RouteStats]:
        """Every instance's rows in the range (the caller merges them)."""
