"""`parley reindex` and `parley search`: the search use cases from the operator's shell."""

from __future__ import annotations

import typer
from dishka import AsyncContainer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.search.catch_up import CatchUpIndex
from application.search.reindex import Reindex, ReindexCommand, ReindexReport
from application.search.search_messages import SearchHit, SearchMessages, SearchMessagesQuery
from entrypoints.cli.runtime import run_with_container, user_by_email
from entrypoints.settings import Settings


def reindex(
    full: bool = typer.Option(
        False, "--full", help="Re-embed every message, not only those missing a vector."
    ),
) -> None:
    """Rebuild message vectors and the search index for the configured embedder."""

    async def work(container: AsyncContainer, settings: Settings) -> ReindexReport:
        with Progress(
            TextColumn("[bold]embedding messages"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        ) as progress:
            task = progress.add_task("reindex", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            use_case = await container.get(Reindex)
            return await use_case(ReindexCommand(full=full, on_progress=advance))

    report = run_with_container(work)
    typer.echo(
        f"reindexed with {report.model}: {report.embedded} embedded, "
        f"{report.deleted} old vectors removed, {report.vectors} in the index"
    )


def search(
    query: str = typer.Argument(..., help="What to look for."),
    user: str = typer.Option(..., "--user", help="Email of the user whose messages to search."),
    mode: str = typer.Option("hybrid", help="semantic, text or hybrid."),
    limit: int = typer.Option(10, help="Results (capped at 100)."),
) -> None:
    """Search one user's messages, as GET /api/v1/search does for that user."""

    async def work(container: AsyncContainer, settings: Settings) -> list[SearchHit]:
        owner = await user_by_email(container, user)
        await (await container.get(CatchUpIndex))(load_file=True)
        async with container() as request:
            use_case = await request.get(SearchMessages)
            return await use_case(SearchMessagesQuery(owner.id, query, mode, limit))

    hits = run_with_container(work)
    if not hits:
        typer.echo("no results")
    for hit in hits:
        message = hit.message
        snippet = " ".join(message.content.split())[:100]
        typer.echo(
            f"{hit.score:8.4f}  {message.role.value:<9} {message.conversation_id}  {snippet}"
        )
