"""The ``vector_index`` component of /health/ready."""

from __future__ import annotations

import time

from application.health.readiness import ComponentHealth, HealthProbe
from application.ports.vector_index import VectorIndex
from application.search.index_status import IndexStatus


class VectorIndexProbe(HealthProbe):
    """Not critical: chat works without search. Degraded while catching up, after a failed
    catch-up, or when stored vectors come from another embedder (reindex needed)."""

    name = "vector_index"
    critical = False

    def __init__(self, index: VectorIndex, status: IndexStatus) -> None:
        self._index = index
        self._status = status

    async def check(self) -> ComponentHealth:
        started = time.perf_counter()
        summary = f"{len(self._index)} vectors, {self._index.model}"
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        if self._status.foreign_models:
            return ComponentHealth("degraded", elapsed, f"reindex needed; {summary}")
        if self._status.last_error:
            return ComponentHealth("degraded", elapsed, f"catch-up failed; {summary}")
        if not self._status.caught_up:
            return ComponentHealth("degraded", elapsed, f"catching up; {summary}")
        return ComponentHealth("ok", elapsed, summary)
