"""The ``turns`` component of /health/ready: down while this instance drains (shutdown)."""

from __future__ import annotations

from application.chat.generation_runner import GenerationRunner
from application.health.readiness import ComponentHealth, HealthProbe


class TurnsProbe(HealthProbe):
    """Critical: an instance that refuses new turns should get no traffic, so a balancer
    that checks readiness moves clients elsewhere while running replies finish."""

    name = "turns"
    critical = True

    def __init__(self, runner: GenerationRunner) -> None:
        self._runner = runner

    async def check(self) -> ComponentHealth:
        if self._runner.accepting:
            return ComponentHealth("ok", 0.0)
        return ComponentHealth("down", 0.0, "shutting down: new turns are refused")
