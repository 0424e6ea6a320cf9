"""Memory and Redis twins of the quota ledger and the response cache for the contract
suites. ``pair`` gives two handles on one store: for Redis, two clients (as two API
instances would have), for memory the same object twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from adapters.memory.quota_ledger import MemoryQuotaLedger
from adapters.memory.response_cache import MemoryCache
from adapters.redis.client import create_redis
from adapters.redis.quota_ledger import RedisQuotaLedger
from adapters.redis.response_cache import RedisCache
from tests.integration.identity_stores import PIPELINED_KINDS, pipelined, redis_prefix
from tests.support.backends import REDIS_URL, require_servers

KINDS = ["memory", "redis"]
LEDGER_KINDS = PIPELINED_KINDS


@asynccontextmanager
async def quota_ledgers(kind: str) -> AsyncIterator[tuple[Any, Any]]:
    if kind == "memory":
        ledger = MemoryQuotaLedger()
        yield ledger, ledger
        return
    require_servers()
    async with redis_prefix() as (client, prefix):
        other = create_redis(REDIS_URL, 1.0)
        try:
            async with pipelined(client, kind) as calls, pipelined(other, kind) as other_calls:
                yield (
                    RedisQuotaLedger(client, prefix, calls),
                    RedisQuotaLedger(other, prefix, other_calls),
                )
        finally:
            await other.aclose()


@asynccontextmanager
async def caches(kind: str, max_entries: int = 1000) -> AsyncIterator[tuple[Any, Any]]:
    if kind == "memory":
        cache = MemoryCache(max_entries=max_entries)
        yield cache, cache
        return
    require_servers()
    async with redis_prefix() as (client, prefix):
        other = create_redis(REDIS_URL, 1.0)
        try:
            yield RedisCache(client, prefix), RedisCache(other, prefix)
        finally:
            await other.aclose()
