"""Build the memory and Redis twins of the revocation store and rate limiter for the
shared contract suites (Redis: a unique key prefix per test, deleted afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from adapters.memory.rate_limiter import MemoryRateLimiter
from adapters.memory.token_store import MemoryTokenStore
from adapters.redis.autopipeline import AutoPipeline
from adapters.redis.client import create_redis
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.token_store import RedisTokenStore
from tests.support.backends import REDIS_URL, require_servers

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
KINDS = ["memory", "redis"]
PIPELINED_KINDS = [*KINDS, "redis-autopipeline"]
"""The stores whose per-request calls can go through an ``AutoPipeline``, as served."""


@asynccontextmanager
async def redis_prefix(url: str = REDIS_URL) -> AsyncIterator[tuple[Any, str]]:
    client = create_redis(url, 1.0)
    prefix = f"parley-contract-{uuid.uuid4().hex[:12]}:"
    try:
        yield client, prefix
    finally:
        if url == REDIS_URL:
            keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
            if keys:
                await client.delete(*keys)
        await client.aclose()


@asynccontextmanager
async def token_store(kind: str) -> AsyncIterator[Any]:
    if kind == "memory":
        yield MemoryTokenStore()
        return
    require_servers()
    async with redis_prefix() as (client, prefix), pipelined(client, kind) as calls:
        yield RedisTokenStore(client, prefix, calls)


@asynccontextmanager
async def rate_limiter(kind: str) -> AsyncIterator[Any]:
    if kind == "memory":
        yield MemoryRateLimiter()
        return
    require_servers()
    async with redis_prefix() as (client, prefix), pipelined(client, kind) as calls:
        yield RedisRateLimiter(client, prefix, calls)


@asynccontextmanager
async def pipelined(client: Any, kind: str) -> AsyncIterator[AutoPipeline | None]:
    """An ``AutoPipeline`` on ``client`` for the ``redis-autopipeline`` kind, else None."""
    if kind != "redis-autopipeline":
        yield None
        return
    pipeline = AutoPipeline(client)
    try:
        yield pipeline
    finally:
        await pipeline.aclose()
