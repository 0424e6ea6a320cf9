"""`parley models`: the configured models, their providers and each provider's state."""

from __future__ import annotations

import typer
from dishka import AsyncContainer

from application.llm.health import LLMHealthProbe
from application.llm.router import LLMRouter
from entrypoints.cli.runtime import run_with_container
from entrypoints.llm_registry import provider_settings
from entrypoints.settings import Settings


async def _rows(container: AsyncContainer, settings: Settings) -> list[list[str]]:
    router = await container.get(LLMRouter)
    health = await (await container.get(LLMHealthProbe)).check()
    states = dict(part.split(": ", 1) for part in (health.detail or "").split("; ") if part)
    kinds = {name: p.kind for name, p in provider_settings(settings).items()}
    rows = []
    for spec in router.catalog.models:
        default = " (default)" if spec.id == router.catalog.default_model else ""
        rows.append(
            [
                spec.id + default,
                f"{spec.provider} ({kinds.get(spec.provider, '?')})",
                spec.upstream_model,
                f"{spec.context_window}/{spec.max_output_tokens}",
                f"{spec.input_price_per_million}/{spec.output_price_per_million}",
                ", ".join(spec.fallbacks) or "-",
                states.get(spec.provider, "unknown"),
            ]
        )
    return rows


def list_models() -> None:
    """List the configured models: provider, upstream name, limits, prices (USD per million
    tokens in/out), fallbacks and provider state (circuit breaker, reachability)."""
    rows = run_with_container(_rows)
    header = ["MODEL", "PROVIDER", "UPSTREAM", "CONTEXT/MAX", "PRICE IN/OUT", "FALLBACKS", "STATE"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        ok = row is header or row[-1] == "closed"
        typer.secho(line.rstrip(), fg=None if ok else "yellow")
