"""Run the import and export use cases against the test container, read results over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from dishka import AsyncContainer
from httpx import AsyncClient

from adapters.system.ids import uuid7
from application.portability.export_conversations import (
    ExportCommand,
    ExportConversations,
    ExportFormat,
    ExportResult,
)
from application.portability.import_conversations import ImportCommand, ImportConversations
from application.search.imported_indexing import ImportedMessagesIndexing
from domain.imports import ImportFormat, ImportReport

API = "/api/v1/conversations"


async def import_file(
    container: AsyncContainer, owner: str, path: Path, format: ImportFormat = ImportFormat.AUTO
) -> ImportReport:
    use_case = await container.get(ImportConversations)
    try:
        return await use_case(ImportCommand(UUID(owner), path, format))
    finally:
        # The in-process test client blocks this loop while it serves a request: let the
        # background indexing of the imported messages finish first, or its open SQLite
        # write would wait on a loop that cannot run.
        await (await container.get(ImportedMessagesIndexing)).wait()


async def export_for(
    container: AsyncContainer,
    owner: str,
    format: ExportFormat = ExportFormat.PARLEY,
    ids: tuple[UUID, ...] | None = None,
) -> ExportResult:
    use_case = await container.get(ExportConversations)
    return await use_case(ExportCommand(UUID(owner), uuid7(), format, ids))


async def everything(client: AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every conversation of the caller with its messages, oldest activity first."""
    conversations: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(API, params=params, headers=headers)).json()
        conversations += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    for conversation in conversations:
        listed = await client.get(
            f"{API}/{conversation['id']}/messages", params={"limit": 100}, headers=headers
        )
        conversation["messages"] = listed.json()["items"]
    return list(reversed(conversations))
