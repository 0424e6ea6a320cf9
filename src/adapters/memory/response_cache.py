"""In-process cache: least recently used entries go first once ``max_entries`` is reached."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from application.ports.response_cache import Cache, CacheStats


class MemoryCache(Cache):
    def __init__(
        self, max_entries: int = 1000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max(1, max_entries)
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._hits = 0
        self._misses = 0

    async def get(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is None or found[0] <= self._clock():
            self._entries.pop(key, None)
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        return found[1]

    async def set(self, key: str, value: bytes, ttl_s: int) -> None:
        self._entries[key] = (self._clock() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def stats(self) -> CacheStats:
        return CacheStats(self._hits, self._misses)
