"""The ``llm`` readiness component: every provider's circuit state and reachability."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from application.health.readiness import ComponentHealth, HealthProbe, Status
from application.llm.router import LLMRouter


class LLMHealthProbe(HealthProbe):
    """Business rules: a provider is usable when its circuit is not open and it answered
    its last reachability check (listing its models); all usable: ``ok``, some: ``degraded``,
    none: ``down``. Checks are cached for ``ttl_s`` so load-balancer polling does not hammer
    upstreams. Not critical: stored conversations can still be served without a model."""

    name = "llm"
    critical = False

    def __init__(
        self,
        router: LLMRouter,
        *,
        ttl_s: float = 30.0,
        timeout_s: float = 1.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._router = router
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._reachable: dict[str, tuple[float, bool]] = {}

    async def check(self) -> ComponentHealth:
        started = self._clock()
        names = sorted(self._router.providers)
        reachable = await asyncio.gather(*(self._is_reachable(n) for n in names))
        states = self._router.breaker_states()
        parts, usable = [], 0
        for name, ok in zip(names, reachable, strict=True):
            state = states.get(name, "closed")
            parts.append(f"{name}: {state}{'' if ok else ', unreachable'}")
            usable += ok and state != "open"
        status: Status = "ok" if usable == len(names) else "degraded" if usable else "down"
        latency = round((self._clock() - started) * 1000, 2)
        return ComponentHealth(status, latency, "; ".join(parts))

    async def _is_reachable(self, name: str) -> bool:
        now = self._clock()
        cached = self._reachable.get(name)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._router.providers[name].models()
            ok = True
        except Exception:  # any failure means "not reachable"; details are in the logs
            ok = False
        self._reachable[name] = (now, ok)
        return ok
