"""GetPlatformStats: how big the platform is and what it has spent, for admins."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.principal import Principal
from application.identity.user_lookup import require_admin
from application.ports.response_cache import Cache, CacheStats
from application.ports.unit_of_work import UnitOfWork
from application.ports.usage_ledger import PlatformCounts
from application.usage.usage_recorder import UsageRecorder
from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class PlatformStats:
    counts: PlatformCounts
    cache: CacheStats | None
    """None when the cache cannot be asked (Redis down): the rest still answers."""


class GetPlatformStats:
    """Business rules: admins only; tokens and cost are all-time totals from the usage
    ledger; the cache hit rate covers opted-in /v1 completions since the cache started."""

    def __init__(self, uow: UnitOfWork, cache: Cache, recorder: UsageRecorder) -> None:
        self._uow = uow
        self._cache = cache
        self._recorder = recorder

    async def __call__(self, actor: Principal) -> PlatformStats:
        require_admin(actor)
        await self._recorder.flush()
        async with self._uow as uow:
            counts = await uow.usage.platform_counts()
        try:
            cache: CacheStats | None = await self._cache.stats()
        except DomainError:
            cache = None
        return PlatformStats(counts, cache)
