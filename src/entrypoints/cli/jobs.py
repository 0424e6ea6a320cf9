"""`parley jobs ...` and `parley worker`: the job use cases from the operator's shell."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import msgspec
import typer
from dishka import AsyncContainer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from application.identity.principal import Principal
from application.jobs.cancel_job import CancelJob
from application.jobs.read_jobs import GetJob, ListJobs, ListJobsQuery
from application.jobs.submit_job import SubmitJob, SubmitJobCommand
from application.jobs.views import JobView, job_view
from domain.errors import InvalidInput
from domain.jobs import Job, JobStatus
from entrypoints.cli.runtime import run_with_container, settings_or_exit, user_by_email
from entrypoints.jobs_runtime import EmbeddedJobs
from entrypoints.settings import Settings

app = typer.Typer(help="Background jobs of one user: list, show, cancel, run.")
UserOption = typer.Option(..., "--user", help="Email of the job's owner.")


async def _principal(container: AsyncContainer, email: str) -> Principal:
    user = await user_by_email(container, email)
    return Principal(user.id, user.role, user.plan, "jwt")


def _print(view: JobView) -> None:
    typer.echo(json.dumps(msgspec.to_builtins(view), indent=2, ensure_ascii=False))


@app.command("list")
def list_jobs(
    user: str = UserOption,
    status: str | None = typer.Option(None, help="queued, running, succeeded, failed, cancelled."),
    kind: str | None = typer.Option(None, help="Only jobs of this kind."),
    limit: int = typer.Option(20, help="How many (capped at 100)."),
) -> None:
    """The user's jobs, newest first."""

    async def work(container: AsyncContainer, settings: Settings) -> list[Job]:
        who = await _principal(container, user)
        wanted = _status(status)
        async with container() as request:
            page = await (await request.get(ListJobs))(
                ListJobsQuery(who.user_id, limit, None, wanted, kind)
            )
        return page.items

    jobs = run_with_container(work)
    if not jobs:
        typer.echo("no jobs")
    for job in jobs:
        error = f"  {job.error.code}" if job.error else ""
        typer.echo(
            f"{job.id}  {job.kind:<24} {job.status.value:<10} "
            f"{job.progress:>4.0%}  {job.created_at:%Y-%m-%d %H:%M:%S}{error}"
        )


@app.command("show")
def show(job_id: UUID = typer.Argument(..., help="Job id."), user: str = UserOption) -> None:
    """One job: status, progress, params, result or error (JSON)."""

    async def work(container: AsyncContainer, settings: Settings) -> Job:
        who = await _principal(container, user)
        async with container() as request:
            return await (await request.get(GetJob))(who.user_id, job_id)

    _print(job_view(run_with_container(work)))


@app.command("cancel")
def cancel(job_id: UUID = typer.Argument(..., help="Job id."), user: str = UserOption) -> None:
    """Cancel a queued job at once, or a running one at its next heartbeat."""

    async def work(container: AsyncContainer, settings: Settings) -> Job:
        who = await _principal(container, user)
        async with container() as request:
            return await (await request.get(CancelJob))(who.user_id, job_id)

    job = run_with_container(work)
    state = job.status.value if job.status.finished else "cancel requested"
    typer.echo(f"{job.id}: {state}")


@app.command("run")
def run(
    kind: str = typer.Argument(..., help="summarize_conversation, research, reindex, ..."),
    user: str = UserOption,
    param: list[str] = typer.Option([], "--param", help="k=v (a JSON value or a string)."),
) -> None:
    """Submit a job, show its progress and wait for its result. Without Redis the job
    runs in this process; with Redis a `parley worker` runs it."""

    async def work(container: AsyncContainer, settings: Settings) -> Job:
        params = _params(param)
        who = await _principal(container, user)
        if not settings.redis.url:
            await (await container.get(EmbeddedJobs)).start()
        async with container() as request:
            job = await (await request.get(SubmitJob))(SubmitJobCommand(who, kind, params))
        return await _follow(container, who, job)

    job = run_with_container(work)
    _print(job_view(job))
    if job.status is not JobStatus.SUCCEEDED:
        raise typer.Exit(1)


async def _follow(container: AsyncContainer, who: Principal, job: Job) -> Job:
    with Progress(
        TextColumn(f"[bold]{job.kind}"),
        BarColumn(),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(job.kind, total=1.0, state=job.status.value)
        while not job.status.finished:
            await asyncio.sleep(0.2)
            async with container() as request:
                job = await (await request.get(GetJob))(who.user_id, job.id)
            bar.update(task, completed=job.progress, state=job.status.value)
    return job


def worker(
    concurrency: int = typer.Option(10, "--concurrency", min=1, help="Jobs run at once."),
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        help="Serve this worker's Prometheus metrics (job counters, "
        "durations, model calls) on this port (on PARLEY_HOST).",
    ),
) -> None:
    """Run jobs from the Redis queue (PARLEY_REDIS_URL) until SIGINT/SIGTERM."""
    from entrypoints.job_worker import JobWorker, worker_settings

    settings = settings_or_exit()
    if not settings.redis.url:
        typer.secho(
            "`parley worker` needs PARLEY_REDIS_URL; without Redis, `parley serve` "
            "runs jobs itself",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)

    async def work(container: AsyncContainer, settings: Settings) -> None:
        from entrypoints.logging import configure_logging

        configure_logging(settings.log_level, settings.json_logs)
        if metrics_port is not None:
            from prometheus_client import start_http_server

            from adapters.prometheus.metrics import PrometheusMetrics

            registry = (await container.get(PrometheusMetrics)).registry
            start_http_server(metrics_port, addr=settings.host, registry=registry)
        await JobWorker(container, concurrency).run()

    run_with_container(work, worker_settings(settings, concurrency))


def _status(raw: str | None) -> JobStatus | None:
    if raw is None:
        return None
    try:
        return JobStatus(raw)
    except ValueError:
        raise typer.BadParameter(f"unknown status {raw!r}") from None


def _params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param {pair!r}: expected k=v")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params
