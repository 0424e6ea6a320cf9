"""Each context source is a readiness component; a failing one degrades, never downs."""

from __future__ import annotations

import asyncio
import time

from application.health.readiness import ComponentHealth, HealthProbe
from application.ports.context_source import ContextSource, ContextSourceUnavailable

PROBE_TIMEOUT_S = 0.8
"""Under readiness's own 1 s bound, so a hanging source reads ``degraded`` (its own
timeout fires) rather than being cut off by readiness as ``down``."""


class ContextSourceProbe(HealthProbe):
    critical = False

    def __init__(self, source: ContextSource) -> None:
        self._source = source
        self.name = source.name

    async def check(self) -> ComponentHealth:
        started = time.perf_counter()
        try:
            detail = await asyncio.wait_for(
                self._source.ping(), min(self._source.timeout_s, PROBE_TIMEOUT_S)
            )
        except TimeoutError:
            return ComponentHealth("degraded", _ms(started), "timed out")
        except ContextSourceUnavailable as exc:
            return ComponentHealth("degraded", _ms(started), exc.detail)
        except Exception as exc:
            return ComponentHealth("degraded", _ms(started), type(exc).__name__)
        return ComponentHealth("ok", _ms(started), detail)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
