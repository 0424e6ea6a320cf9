"""Readiness: ask every component probe, in parallel, how it is."""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Literal, Protocol

Status = Literal["ok", "degraded", "down"]


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    status: Status
    latency_ms: float
    detail: str | None = None


class HealthProbe(Protocol):
    """One component's health check; ``critical`` components make the service ``down``."""

    name: str
    critical: bool

    @abstractmethod
    async def check(self) -> ComponentHealth: ...


@dataclass(frozen=True, slots=True)
class Readiness:
    status: Status
    components: dict[str, ComponentHealth] = field(default_factory=dict)


class CheckReadiness:
    """Business rules: a failing critical component means ``down``; any other failure
    means ``degraded``; a probe that does not answer within the timeout counts as down."""

    def __init__(self, probes: list[HealthProbe], timeout_s: float = 1.0) -> None:
        self._probes = probes
        self._timeout_s = timeout_s

    async def __call__(self) -> Readiness:
        results = await asyncio.gather(*(self._run(p) for p in self._probes))
        components = {p.name: r for p, r in zip(self._probes, results, strict=True)}
        status: Status = "ok"
        for probe, result in zip(self._probes, results, strict=True):
            if result.status == "down" and probe.critical:
                status = "down"
            elif result.status != "ok" and status == "ok":
                status = "degraded"
        return Readiness(status=status, components=components)

    async def _run(self, probe: HealthProbe) -> ComponentHealth:
        started = time.perf_counter()
        task = asyncio.ensure_future(probe.check())
        # Not wait_for: cancelling a probe stuck on a frozen dependency can itself take as
        # long as that dependency's timeout; the answer must not wait for the cleanup.
        await asyncio.wait({task}, timeout=self._timeout_s)
        if not task.done():
            task.add_done_callback(_discard_outcome)
            task.cancel()
            return ComponentHealth("down", _ms(started), "timed out")
        try:
            return task.result()
        except Exception as exc:  # a probe must never break the health endpoint
            return ComponentHealth("down", _ms(started), type(exc).__name__)


def _discard_outcome(task: asyncio.Future[ComponentHealth]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: an abandoned probe's failure is already reported


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
