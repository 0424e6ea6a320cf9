"""The ``import`` and ``export`` job kinds: the portability use cases behind the job runner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from application.jobs.handlers import JobContext, JobHandler
from application.jobs.kinds.params import only
from application.portability.export_conversations import (
    ExportCommand,
    ExportConversations,
    ExportFormat,
)
from application.portability.import_conversations import ImportCommand, ImportConversations
from application.portability.job_results import export_result, import_result
from application.ports.portability import ImportUploads
from application.ports.unit_of_work import UnitOfWork
from domain.conversations import ConversationNotFound
from domain.imports import ImportFormat
from domain.users import field_error

MAX_EXPORT_IDS = 1000


class ExportJob(JobHandler):
    """Business rules: `format` parley (default) or markdown; `conversation_ids` (optional)
    must all be the owner's (else CONVERSATION_NOT_FOUND at submit); the file is keyed by
    the job id, so a repeated delivery rewrites the same file."""

    kind = "export"
    admin_only = False
    internal = False

    def __init__(self, export: ExportConversations) -> None:
        self._export = export

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        only(params, {"format", "conversation_ids"})
        fmt = params.get("format", ExportFormat.PARLEY.value)
        if fmt not in {f.value for f in ExportFormat}:
            raise field_error("params.format", "parley or markdown")
        out: dict[str, Any] = {"format": fmt}
        ids = params.get("conversation_ids")
        if ids is not None:
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_EXPORT_IDS:
                raise field_error(
                    "params.conversation_ids", f"a list of 1 to {MAX_EXPORT_IDS} conversation ids"
                )
            try:
                out["conversation_ids"] = [str(UUID(str(i))) for i in dict.fromkeys(ids)]
            except ValueError:
                raise field_error("params.conversation_ids", "not valid ids") from None
        return out

    async def check(self, uow: UnitOfWork, owner_id: UUID, params: Mapping[str, Any]) -> None:
        for raw in params.get("conversation_ids") or ():
            if await uow.conversations.get(UUID(raw), owner_id) is None:
                raise ConversationNotFound(f"conversation {raw} not found")

    async def run(self, context: JobContext) -> dict[str, Any]:
        ids = context.params.get("conversation_ids")

        async def cancelled() -> bool:
            return context.cancel_requested()

        result = await self._export(
            ExportCommand(
                owner_id=context.owner_id,
                export_id=context.job_id,
                format=ExportFormat(context.params.get("format", "parley")),
                conversation_ids=tuple(UUID(i) for i in ids) if ids else None,
                on_progress=context.report_progress,
                cancelled=cancelled,
            )
        )
        return export_result(result)


class ImportJob(JobHandler):
    """Business rules: created by `POST /api/v1/imports` after the upload is stored (a job
    naming an upload the owner does not have is refused at submit); the upload is deleted
    once the import has run to its end, so a retried delivery still finds it."""

    kind = "import"
    admin_only = False
    internal = False

    def __init__(self, importer: ImportConversations, uploads: ImportUploads) -> None:
        self._import = importer
        self._uploads = uploads

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        only(params, {"upload", "format"})
        fmt = params.get("format", ImportFormat.AUTO.value)
        if fmt not in {f.value for f in ImportFormat}:
            raise field_error("params.format", "auto, parley, chatgpt, claude or openwebui")
        try:
            upload = UUID(str(params.get("upload")))
        except ValueError:
            raise field_error("params.upload", "upload a file with POST /api/v1/imports") from None
        return {"upload": str(upload), "format": fmt}

    async def check(self, uow: UnitOfWork, owner_id: UUID, params: Mapping[str, Any]) -> None:
        if not self._uploads.exists(owner_id, UUID(params["upload"])):
            raise field_error("params.upload", "upload a file with POST /api/v1/imports")

    async def run(self, context: JobContext) -> dict[str, Any]:
        upload = UUID(context.params["upload"])

        async def cancelled() -> bool:
            return context.cancel_requested()

        try:
            report = await self._import(
                ImportCommand(
                    owner_id=context.owner_id,
                    path=self._uploads.path(context.owner_id, upload),
                    format=ImportFormat(context.params.get("format", "auto")),
                    on_progress=context.report_progress,
                    cancelled=cancelled,
                )
            )
        except FileNotFoundError:
            raise field_error("params.upload", "the uploaded file is gone") from None
        except BaseException as exc:
            if not isinstance(exc, Exception) or _retryable(exc):
                raise  # cancelled, or the database is down: a retry needs the file
            self._uploads.discard(context.owner_id, upload)
            raise
        self._uploads.discard(context.owner_id, upload)
        return import_result(report)


def _retryable(exc: Exception) -> bool:
    from domain.errors import Unavailable

    return isinstance(exc, Unavailable)
