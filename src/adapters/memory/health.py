from __future__ import annotations

from application.health.readiness import ComponentHealth, HealthProbe


class InProcessProbe(HealthProbe):
    """An in-process component is up exactly when this process is."""

    critical = False

    def __init__(self, name: str, detail: str = "in-process") -> None:
        self.name = name
        self._detail = detail

    async def check(self) -> ComponentHealth:
        return ComponentHealth("ok", 0.0, self._detail)
