"""``reindex`` (admins only): rebuild message vectors and the index for the embedder."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from application.jobs.handlers import JobContext, JobHandler
from application.jobs.kinds.params import only
from application.search.reindex import Reindex, ReindexCommand
from domain.users import field_error


class ReindexJob(JobHandler):
    """Business rules: admins only (403 for others, at submit); ``full`` re-embeds every
    message; it resumes where it stopped, so a repeated delivery only finishes the work."""

    kind = "reindex"
    admin_only = True
    internal = False

    def __init__(self, reindex: Reindex) -> None:
        self._reindex = reindex

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        only(params, {"full"})
        full = params.get("full", False)
        if not isinstance(full, bool):
            raise field_error("params.full", "true or false")
        return {"full": full}

    async def run(self, context: JobContext) -> dict[str, Any]:
        reports: set[asyncio.Task[None]] = set()

        def on_progress(done: int, total: int) -> None:
            if total:
                task = asyncio.ensure_future(context.report_progress(0.99 * done / total))
                reports.add(task)
                task.add_done_callback(reports.discard)

        report = await self._reindex(
            ReindexCommand(full=bool(context.params.get("full")), on_progress=on_progress)
        )
        if reports:
            await asyncio.gather(*reports, return_exceptions=True)
        return {
            "model": report.model,
            "deleted": report.deleted,
            "embedded": report.embedded,
            "vectors": report.vectors,
        }
