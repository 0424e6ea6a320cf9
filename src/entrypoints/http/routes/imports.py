"""POST /api/v1/imports: upload an export file; it is imported by a job of kind `import`."""

from __future__ import annotations

from typing import Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Router, post
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema

from application.identity.principal import Principal
from application.jobs.submit_job import SubmitJob, SubmitJobCommand
from application.jobs.views import JobView, job_view
from application.ports.ids import IdGenerator
from application.ports.portability import ImportUploads
from domain.imports import ImportFormat
from domain.users import field_error
from entrypoints.http.openapi_contract import UPLOAD_BODY, multipart_upload
from entrypoints.http.routes.portability import problems
from entrypoints.http.uploads import receive_upload
from entrypoints.settings import Settings


@post(
    "/api/v1/imports",
    status_code=202,
    tags=["imports"],
    summary="Import an export file (ChatGPT, Claude, Open WebUI or Parley) as a job",
    description=(
        "multipart/form-data: `file` (.json or .zip), optional `format` (`auto` default, "
        "`parley`, `chatgpt`, `claude`, `openwebui`). Answers 202 with the `import` Job; its "
        "result is `{imported, skipped, failed, items: [{source_id, title, status, "
        "conversation_id?, messages?, error?}]}`. A file with nothing importable fails the "
        "job with `IMPORT_EMPTY`, an unrecognised one with `IMPORT_UNSUPPORTED`, a hostile "
        "zip with `IMPORT_REFUSED`. Over `PARLEY_IMPORT_MAX_BYTES` (200 MB): 413."
    ),
    # The app-wide body limit is for JSON; this route enforces its own while streaming.
    request_max_body_size=None,
    responses=problems(400, 401, 413, 429),
    opt={
        UPLOAD_BODY: multipart_upload(
            {
                "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                "format": Schema(
                    type=OpenAPIType.STRING,
                    enum=[f.value for f in ImportFormat],
                    default=ImportFormat.AUTO.value,
                ),
            },
            ["file"],
        )
    },
)
@inject
async def create_import(
    request: Request[Any, Any, Any],
    principal: FromDishka[Principal],
    settings: FromDishka[Settings],
    uploads: FromDishka[ImportUploads],
    ids: FromDishka[IdGenerator],
    submit: FromDishka[SubmitJob],
) -> JobView:
    upload_id = ids.new_id()
    path = uploads.path(principal.user_id, upload_id)
    received = await receive_upload(
        request, limit=settings.import_max_bytes, path=path, fields=frozenset({"format"})
    )
    fmt = received.fields.get("format") or ImportFormat.AUTO.value
    if fmt not in {f.value for f in ImportFormat}:
        uploads.discard(principal.user_id, upload_id)
        raise field_error("format", "auto, parley, chatgpt, claude or openwebui")
    try:
        job = await submit(
            SubmitJobCommand(principal, "import", {"upload": str(upload_id), "format": fmt})
        )
    except BaseException:
        uploads.discard(principal.user_id, upload_id)
        raise
    return job_view(job)


ROUTES = [Router(path="/", route_handlers=[create_import])]
