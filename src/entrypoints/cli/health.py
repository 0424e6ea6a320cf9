"""`parley health [--history]`: readiness now, or the periodic checks' history."""

from __future__ import annotations

import typer
from dishka import AsyncContainer

from entrypoints.cli.runtime import run_with_container
from entrypoints.settings import Settings


def health(
    history: bool = typer.Option(False, "--history", help="Show the periodic checks' history."),
    period: str = typer.Option("24h", help="History period: 24h or 7d."),
) -> None:
    """Component health now, or (--history) uptime, failures, latency and incidents."""
    if history:
        run_with_container(lambda c, s: _history(c, s, period))
        return
    healthy = run_with_container(_now)
    if not healthy:
        raise typer.Exit(1)


async def _now(container: AsyncContainer, settings: Settings) -> bool:
    from application.health.readiness import CheckReadiness

    result = await (await container.get(CheckReadiness))()
    typer.echo(f"status: {result.status}")
    for name, comp in result.components.items():
        detail = f" - {comp.detail}" if comp.detail else ""
        typer.echo(f"  {name:<16} {comp.status:<9} {comp.latency_ms:>8.1f} ms{detail}")
    return result.status != "down"


async def _history(container: AsyncContainer, settings: Settings, period: str) -> None:
    from application.health.history import GetHealthHistory

    report = await (await container.get(GetHealthHistory))(None, period)
    typer.echo(f"health history, last {report.period} (since {report.since:%Y-%m-%d %H:%M} UTC)")
    if not report.components:
        typer.echo("  no checks recorded yet (they run while `parley serve` is up)")
    typer.echo(f"  {'component':<16} {'uptime':>8} {'checks':>7} {'failures':>8} {'p50 ms':>8}")
    for name, c in report.components.items():
        typer.echo(
            f"  {name:<16} {c.uptime_ratio:>8.2%} {c.checks:>7} {c.failures:>8} "
            f"{c.p50_latency_ms:>8.1f}"
        )
        for i in c.incidents:
            end = f"{i.ended_at:%Y-%m-%d %H:%M:%S}" if i.ended_at else "ongoing"
            typer.echo(f"      incident {i.started_at:%Y-%m-%d %H:%M:%S} -> {end}: {i.detail}")
