"""Cache: bytes by key with a time to live, plus hit/miss counters for the admin stats.

Caching is an optimisation: adapters raise ``CacheUnavailable`` and callers carry on
without the cache.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol

from domain.errors import Unavailable


class CacheUnavailable(Unavailable):
    code = "CACHE_UNAVAILABLE"
    title = "Cache unavailable"


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float | None:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


class Cache(Protocol):
    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The value, or None; counts a hit or a miss."""

    @abstractmethod
    async def set(self, key: str, value: bytes, ttl_s: int) -> None: ...

    @abstractmethod
    async def stats(self) -> CacheStats: ...
