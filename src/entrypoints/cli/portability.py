"""`parley import` and `parley export`: the same use cases the import and export jobs run."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import typer
from dishka import AsyncContainer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from application.portability.export_conversations import (
    ExportCommand,
    ExportConversations,
    ExportFormat,
    ExportResult,
)
from application.portability.import_conversations import ImportCommand, ImportConversations
from application.ports.ids import IdGenerator
from application.ports.portability import ExportStore
from application.search.imported_indexing import ImportedMessagesIndexing
from domain.imports import ImportFormat, ImportReport
from entrypoints.cli.runtime import run_with_container, user_by_email
from entrypoints.settings import Settings

STATUS_COLOUR = {"imported": "green", "skipped": "yellow", "failed": "red"}


def _bar(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .json or .zip export."),
    user: str = typer.Option(..., "--user", help="Email of the account to import into."),
    format: ImportFormat = typer.Option(ImportFormat.AUTO, "--format", help="Default: detect."),
    index: bool = typer.Option(True, "--index/--no-index", help="Index for search before exiting."),
) -> None:
    """Import conversations from ChatGPT, Claude, Open WebUI or a Parley export."""

    async def work(container: AsyncContainer, settings: Settings) -> ImportReport:
        owner_id = (await user_by_email(container, user)).id
        use_case = await container.get(ImportConversations)
        with _bar("importing") as progress:
            task = progress.add_task("import", total=1.0)

            async def advance(fraction: float) -> None:
                progress.update(task, completed=fraction)

            report = await use_case(ImportCommand(owner_id, file, format, on_progress=advance))
            progress.update(task, completed=1.0)
        if index and report.imported:
            typer.secho("indexing imported messages for search...", err=True)
            await (await container.get(ImportedMessagesIndexing)).wait()
        return report

    report = run_with_container(work)
    for item in report.items:
        status = item.status.value
        line = f"{status:<9} {item.source_id or '-'}  {item.title or ''}"
        if item.messages is not None:
            line += f"  ({item.messages} messages)"
        if item.error:
            line += f"  - {item.error}"
        typer.secho(line, fg=STATUS_COLOUR[status])
    typer.echo(f"{report.imported} imported, {report.skipped} skipped, {report.failed} failed")


def export(
    user: str = typer.Option(..., "--user", help="Email of the account to export."),
    format: ExportFormat = typer.Option(ExportFormat.PARLEY, "--format"),
    output: Path | None = typer.Option(None, "-o", "--output", help="Default: in this directory."),
    conversation: list[UUID] | None = typer.Option(
        None, "--conversation", help="Only this conversation (repeatable)."
    ),
) -> None:
    """Export an account's conversations: `parley` (lossless JSON) or `markdown` (zip)."""

    async def work(container: AsyncContainer, settings: Settings) -> tuple[ExportResult, Path]:
        owner_id = (await user_by_email(container, user)).id
        use_case = await container.get(ExportConversations)
        export_id = (await container.get(IdGenerator)).new_id()
        with _bar("exporting") as progress:
            task = progress.add_task("export", total=1.0)

            async def advance(fraction: float) -> None:
                progress.update(task, completed=fraction)

            ids = tuple(conversation) if conversation else None
            result = await use_case(
                ExportCommand(owner_id, export_id, format, ids, on_progress=advance)
            )
        store = await container.get(ExportStore)
        stored = store.locate(export_id, owner_id, datetime.now(UTC))
        target = output or Path(result.filename)
        shutil.copyfile(stored.path, target)
        store.remove(export_id)
        return result, target

    result, target = run_with_container(work)
    typer.echo(f"exported {result.conversations} conversations ({result.bytes} bytes) to {target}")
