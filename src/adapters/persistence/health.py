from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.health.readiness import ComponentHealth, HealthProbe


class DatabaseProbe(HealthProbe):
    name = "database"
    critical = True

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> ComponentHealth:
        started = time.perf_counter()
        try:
            async with self._engine.connect() as conn:
                try:
                    await conn.execute(text("SELECT 1"))
                except BaseException:
                    # Never hand a connection stuck on a frozen server back to the pool
                    # (its reset would wait a statement timeout again).
                    await conn.invalidate()
                    raise
        except Exception as exc:
            return ComponentHealth("down", _ms(started), f"unreachable ({type(exc).__name__})")
        return ComponentHealth("ok", _ms(started), self._engine.dialect.name)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
