"""Health history: periodic component checks summarised into uptime and incidents."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """One component's state at one periodic check (one row per slot and component)."""

    at: datetime
    component: str
    status: str
    """``ok``, ``degraded`` or ``down``: anything but ``ok`` counts as a failure."""
    latency_ms: float
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    started_at: datetime
    ended_at: datetime | None
    """The first check that was ``ok`` again; ``None`` while it lasts."""
    detail: str


@dataclass(frozen=True, slots=True)
class ComponentHistory:
    component: str
    checks: int
    failures: int
    uptime_ratio: float
    p50_latency_ms: float
    incidents: list[Incident] = field(default_factory=list)


def summarize(checks: Iterable[HealthCheck]) -> dict[str, ComponentHistory]:
    """Per component, in check order: an incident is a run of failing checks, from the
    first failure to the next ``ok`` check; its detail is the first failure's."""
    by_component: dict[str, list[HealthCheck]] = {}
    for check in sorted(checks, key=lambda c: c.at):
        by_component.setdefault(check.component, []).append(check)
    return {name: _component(name, rows) for name, rows in sorted(by_component.items())}


def _component(name: str, rows: list[HealthCheck]) -> ComponentHistory:
    incidents: list[Incident] = []
    open_since: HealthCheck | None = None
    failures = 0
    for row in rows:
        if row.status != "ok":
            failures += 1
            if open_since is None:
                open_since = row
        elif open_since is not None:
            incidents.append(Incident(open_since.at, row.at, _detail(open_since)))
            open_since = None
    if open_since is not None:
        incidents.append(Incident(open_since.at, None, _detail(open_since)))
    return ComponentHistory(
        component=name,
        checks=len(rows),
        failures=failures,
        uptime_ratio=round((len(rows) - failures) / len(rows), 6),
        p50_latency_ms=round(statistics.median(r.latency_ms for r in rows), 2),
        incidents=incidents,
    )


def _detail(check: HealthCheck) -> str:
    return f"{check.status}: {check.detail}" if check.detail else check.status
