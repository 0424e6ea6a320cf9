"""/api/v1/jobs: submit, list, read and cancel the caller's background jobs."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from dishka import AsyncContainer
from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from application.identity.principal import Principal
from application.jobs.cancel_job import CancelJob
from application.jobs.read_jobs import GetJob, ListJobs, ListJobsQuery
from application.jobs.submit_job import SubmitJob, SubmitJobCommand
from application.jobs.views import JobView, job_view
from domain.jobs import JobStatus
from entrypoints.jobs_runtime import EmbeddedJobs
from entrypoints.settings import Settings


class SubmitJobBody(msgspec.Struct):
    kind: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=64,
            description="summarize_conversation, research, export, reindex (admins)",
        ),
    ]
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class JobList(msgspec.Struct):
    items: list[JobView]
    next_cursor: str | None


@post(
    "/",
    status_code=202,
    summary="Submit a background job",
    description="Kinds: `summarize_conversation {conversation_id}` → `{summary}`; "
    "`research {topic, steps?: 1..8}` → `{report, sections}`; `reindex {full?}` (admins). "
    "Unknown kind or bad params: 400 with nothing queued; over the plan's `monthly_jobs`: "
    "429 `QUOTA_EXCEEDED`.",
)
@inject
async def submit_job(
    data: JSONBody[SubmitJobBody], principal: FromDishka[Principal], use_case: FromDishka[SubmitJob]
) -> JobView:
    return job_view(await use_case(SubmitJobCommand(principal, data.kind, data.params)))


@get("/", summary="List your jobs, newest first")
@inject
async def list_jobs(
    principal: FromDishka[Principal],
    use_case: FromDishka[ListJobs],
    status: Annotated[
        Literal["queued", "running", "succeeded", "failed", "cancelled"] | None,
        QueryParameter(description="Only jobs in this status."),
    ] = None,
    kind: Annotated[
        str | None, QueryParameter(max_length=64, description="Only jobs of this kind.")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, description="Page size; capped at 100.")] = 20,
    cursor: Annotated[
        str | None, QueryParameter(description="next_cursor of the previous page")
    ] = None,
) -> JobList:
    page = await use_case(
        ListJobsQuery(principal.user_id, limit, cursor, JobStatus(status) if status else None, kind)
    )
    return JobList([job_view(j) for j in page.items], page.next_cursor)


@get("/{job_id:uuid}", summary="One of your jobs: status, progress, result or error")
@inject
async def get_job(
    job_id: FromPath[UUID], principal: FromDishka[Principal], use_case: FromDishka[GetJob]
) -> JobView:
    return job_view(await use_case(principal.user_id, job_id))


@post(
    "/{job_id:uuid}/cancel",
    status_code=202,
    summary="Cancel a job",
    description="A queued job is `cancelled` at once; a running one stops within 2 s and is "
    "stored `cancelled`. A finished job: 409 `JOB_FINISHED`.",
)
@inject
async def cancel_job(
    job_id: FromPath[UUID], principal: FromDishka[Principal], use_case: FromDishka[CancelJob]
) -> JobView:
    return job_view(await use_case(principal.user_id, job_id))


async def start_embedded_jobs(container: AsyncContainer) -> None:
    """Without Redis, jobs run in this process; with it, `parley worker` runs them."""
    settings = await container.get(Settings)
    if not settings.redis.url:
        await (await container.get(EmbeddedJobs)).start()


async def stop_embedded_jobs(container: AsyncContainer) -> None:
    settings = await container.get(Settings)
    if not settings.redis.url:
        await (await container.get(EmbeddedJobs)).stop()


ROUTES = [
    Router(
        path="/api/v1/jobs",
        tags=["jobs"],
        route_handlers=[submit_job, list_jobs, get_job, cancel_job],
    )
]
