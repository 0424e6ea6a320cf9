"""`parley` command line: the same use cases as the API, through the same container."""

from __future__ import annotations

import gc
import sys

import typer
from dishka import AsyncContainer

from entrypoints.cli import commands
from entrypoints.cli.runtime import run_async, run_with_container, settings_or_exit
from entrypoints.settings import Settings, describe_settings, unknown_env_vars

app = typer.Typer(help="Parley: self-hostable AI chat backend.", no_args_is_help=True)
# The commands defined in this module; the feature groups (user, chat, search, ...) are
# registered by ``main`` only when one of them may be asked for, so that `parley serve`
# does not import every feature's CLI module before the server's own imports.
CORE_COMMANDS = frozenset({"migrate", "serve", "check", "config"})


async def _migrate(settings: Settings) -> str | None:
    """Bring the database to the newest revision; Alembic is loaded only if it is behind."""
    from adapters.persistence.migrate import migrate_database

    return await migrate_database(
        settings.database_url, connect_timeout_s=settings.database.connect_timeout_s
    )


@app.command()
def migrate() -> None:
    """Apply database migrations (SQLite or PostgreSQL) up to the newest revision."""
    revision = run_async(_migrate)
    typer.echo(f"database at revision {revision}")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default PARLEY_HOST)."),
    port: int | None = typer.Option(None, help="Bind port (default PARLEY_PORT)."),
    workers: int | None = typer.Option(None, help="Worker processes (default PARLEY_WORKERS)."),
    migrate_first: bool | None = typer.Option(
        None,
        "--migrate/--no-migrate",
        help="Apply migrations before serving (default: on for the embedded SQLite database).",
    ),
) -> None:
    """Serve the HTTP, SSE and WebSocket API with uvicorn."""
    settings = settings_or_exit()
    worker_count = workers or settings.workers
    if worker_count > 1 and not settings.redis.url:
        typer.secho(
            f"refusing --workers {worker_count}: without PARLEY_REDIS_URL, rate limits, quotas, "
            "the token cache, the event bus, stream logs and the job queue live inside one "
            "process, so several workers would each keep their own (limits multiplied, "
            "streams not resumable or cancellable from another worker, notifications lost). "
            "Run one worker, or set PARLEY_REDIS_URL (see docs/operations.md).",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    if worker_count == 1:
        # Startup creates some 260,000 objects that live as long as the process, and almost
        # no garbage: collecting while they are created is wasted work. The app factory, in
        # this same process, freezes them out of the collector's reach and turns collection
        # back on. (With several workers this process only supervises: it keeps collecting.)
        gc.disable()
    import uvicorn

    if migrate_first if migrate_first is not None else not settings.uses_postgres:
        run_async(_migrate, settings)
    uvicorn.run(
        "entrypoints.http.asgi:app_factory",
        factory=True,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        workers=worker_count,
        log_level="warning",
        access_log=False,
        # The sans-I/O implementation keeps an idle socket to its transport, parser and a
        # keep-alive timer (the legacy one adds two tasks and their buffers per socket);
        # Parley's subclass also drops what only the handshake needed.
        ws="entrypoints.http.websocket.protocol:LeanWebSocketProtocol",
        ws_per_message_deflate=False,
        ws_max_size=settings.ws.max_frame_bytes,  # refused (1009) before buffering
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


@app.command()
def check() -> None:
    """Validate the configuration and reach every dependency; non-zero exit if one is down."""
    from application.health.readiness import CheckReadiness

    async def probe(container: AsyncContainer, settings: Settings) -> bool:
        result = await (await container.get(CheckReadiness))()
        typer.echo(f"configuration ok (env={settings.env}, database={_redact(settings)})")
        for name in unknown_env_vars():
            typer.secho(f"  warning: {name} is not a Parley setting (typo?)", fg="yellow")
        for name, comp in result.components.items():
            colour = {"ok": "green", "degraded": "yellow"}.get(comp.status, "red")
            detail = f" - {comp.detail}" if comp.detail else ""
            typer.secho(
                f"  {name:<14} {comp.status:<9} {comp.latency_ms:>8.1f} ms{detail}", fg=colour
            )
        # "degraded" (e.g. an index still catching up) is reported but is not a failure.
        return all(c.status != "down" for c in result.components.values())

    healthy = run_with_container(probe)
    if not healthy:
        typer.secho("some dependencies are down", fg="red", err=True)
        raise typer.Exit(1)
    typer.secho("all dependencies reachable", fg="green")


@app.command("config")
def show_config() -> None:
    """List every setting: environment variable, default and meaning."""
    for name, default, desc in describe_settings():
        typer.echo(f"{name:<40} {default:<30} {desc}")


def _redact(settings: Settings) -> str:
    url = settings.database_url
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in CORE_COMMANDS:
        commands.register(app)
    app(args=args)
