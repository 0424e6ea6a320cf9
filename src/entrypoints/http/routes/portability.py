"""Bulk conversation operations and export downloads."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from dishka import AsyncContainer
from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.response import File

from application.chat.bulk_conversations import (
    MAX_BULK_IDS,
    BulkAction,
    BulkCommand,
    BulkConversations,
)
from application.identity.principal import Principal
from application.portability.download_export import DownloadExport
from application.ports.clock import Clock
from application.ports.portability import ExportStore
from entrypoints.http.routes.usage_dto import Problem

PROBLEM_TEXT = {
    400: "Invalid input (`VALIDATION_ERROR`; more than 100 ids)",
    401: "Missing or invalid credentials",
    404: "No such export of yours (`EXPORT_NOT_FOUND`)",
    410: "The export expired and was deleted (`EXPORT_EXPIRED`)",
    413: "The upload is over the configured limit (`PAYLOAD_TOO_LARGE`)",
    429: "Rate limited (`RATE_LIMITED`)",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        s: ResponseSpec(Problem, description=PROBLEM_TEXT[s], media_type="application/problem+json")
        for s in statuses
    }


class BulkBody(msgspec.Struct):
    action: Literal["archive", "unarchive", "delete"]
    ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=MAX_BULK_IDS)]


class BulkItem(msgspec.Struct):
    id: UUID
    status: Literal["ok", "not_found"]


class BulkResult(msgspec.Struct):
    items: list[BulkItem]


@post(
    "/api/v1/conversations/bulk",
    status_code=200,
    tags=["conversations"],
    summary="Archive, unarchive or delete up to 100 conversations",
)
@inject
async def bulk_conversations(
    data: JSONBody[BulkBody],
    principal: FromDishka[Principal],
    use_case: FromDishka[BulkConversations],
) -> BulkResult:
    """One result per id, in the order sent; ids that are not yours are `not_found`."""
    outcomes = await use_case(
        BulkCommand(principal.user_id, BulkAction(data.action), tuple(data.ids))
    )
    return BulkResult([BulkItem(o.id, o.status) for o in outcomes])  # type: ignore[arg-type]


@get(
    "/api/v1/exports/{job_id:uuid}/download",
    tags=["exports"],
    summary="Download a finished export",
    responses=problems(401, 404, 410, 429),
    response_description="The export file (JSON for `parley`, a zip for `markdown`)",
)
@inject
async def download_export(
    job_id: FromPath[UUID],
    principal: FromDishka[Principal],
    use_case: FromDishka[DownloadExport],
) -> File:
    """The file of your export job: 404 if it is not yours (or does not exist), 410 once
    it has expired (the file is then deleted)."""
    stored = await use_case(principal.user_id, job_id)
    return File(
        path=stored.path,
        filename=stored.filename,
        media_type=stored.media_type,
        content_disposition_type="attachment",
    )


async def purge_expired_exports(container: AsyncContainer) -> None:
    """Expired export files go at startup too, not only when the next export runs."""
    store = await container.get(ExportStore)
    clock = await container.get(Clock)
    await asyncio.to_thread(store.purge_expired, clock.now())


ROUTES = [Router(path="/", route_handlers=[bulk_conversations, download_export])]
