"""The ``llm`` readiness component: circuit-breaker state of every provider."""

from __future__ import annotations

from application.health.readiness import ComponentHealth, HealthProbe
from application.llm.router import LLMRouter


class LLMHealthProbe(HealthProbe):
    """Business rules: ``ok`` while every circuit is closed; ``degraded`` when some are open
    or probing; ``down`` when none is closed. Never calls upstream (readiness must stay
    cheap); not critical, since stored data can still be served."""

    name = "llm"
    critical = False

    def __init__(self, router: LLMRouter) -> None:
        self._router = router

    async def check(self) -> ComponentHealth:
        states = self._router.breaker_states()
        detail = ", ".join(f"{name}: {state}" for name, state in sorted(states.items()))
        closed = sum(1 for state in states.values() if state == "closed")
        if closed == len(states):
            return ComponentHealth("ok", 0.0, detail)
        return ComponentHealth("degraded" if closed else "down", 0.0, detail)
