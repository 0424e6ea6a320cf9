"""Jobs against real processes: a worker killed mid-job, an API that crashed with jobs
queued, cancel of a queued job, the CLI. Each test gets its own database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.jobs.support import (
    FINISHED,
    jobs_env,
    kill_hard,
    run_worker,
    sign_up,
    submit,
    wait_until,
)
from tests.e2e.ws_support import next_frame, open_socket
from tests.support.backends import Backend, postgres_backend, sqlite_backend
from tests.support.cli import run_cli
from tests.support.server import run_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def fresh(backend: Backend, tmp_path: Path) -> Iterator[Backend]:
    """A backend of the same kind with an empty database of its own."""
    made = (
        sqlite_backend(tmp_path / "db")
        if backend.name == "sqlite"
        else postgres_backend(tmp_path / "db")
    )
    yield made
    for fn in made.cleanup:
        fn()


def _running(job: dict) -> bool:
    return job["status"] == "running" and job["progress"] > 0


def test_a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once(
    fresh: Backend, tmp_path: Path
) -> None:
    if not fresh.uses_redis:
        pytest.skip("`parley worker` consumes the Redis queue")
    env = jobs_env(fresh.env)
    with run_server(env, tmp_path) as api:
        me = sign_up(api.base_url)
        with run_worker(env, tmp_path) as doomed:
            research = submit(api.base_url, me, "research", topic="tides", steps=3)
            wait_until(api.base_url, me, research["id"], _running)
            kill_hard(doomed.process)
        with run_worker(env, tmp_path) as survivor:
            done = wait_until(api.base_url, me, research["id"], lambda j: j["status"] in FINISHED)
            survivor_log = survivor.logs()
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2 and len(done["result"]["sections"]) == 3
        assert research["id"] not in doomed.logs().split("job_finished")[-1]
        finished = [
            ln for ln in survivor_log.splitlines() if "job_finished" in ln and research["id"] in ln
        ]
        assert len(finished) == 1, survivor_log[-3000:]


def test_jobs_left_by_a_crashed_api_run_after_it_comes_back(fresh: Backend, tmp_path: Path) -> None:
    env = jobs_env(fresh.env)
    with run_server(env, tmp_path) as first:
        me = sign_up(first.base_url)
        ids = [
            submit(first.base_url, me, "research", topic=f"t{i}", steps=2)["id"] for i in range(3)
        ]
        extra = submit(first.base_url, me, "research", topic="never mind", steps=1)["id"]
        if fresh.uses_redis:  # no worker yet: everything waits, visibly
            queue = httpx.get(f"{first.base_url}/health/ready").json()["components"]["queue"]
            assert queue["status"] == "degraded" and "depth 4" in queue["detail"], queue
        else:  # the embedded pool (one at a time) is busy with the first
            wait_until(first.base_url, me, ids[0], _running)
        cancelled = httpx.post(f"{first.base_url}/api/v1/jobs/{extra}/cancel", headers=me)
        assert (cancelled.status_code, cancelled.json()["status"]) == (202, "cancelled")
        kill_hard(first.process)
    wider = {**env, "PARLEY_JOBS_CONCURRENCY": "3"}
    with run_server(wider, tmp_path) as second, contextlib.ExitStack() as stack:
        if fresh.uses_redis:
            stack.enter_context(run_worker(wider, tmp_path, concurrency=3))
        results = [
            wait_until(second.base_url, me, i, lambda j: j["status"] in FINISHED) for i in ids
        ]
        assert [r["status"] for r in results] == ["succeeded"] * 3, results
        assert wait_until(second.base_url, me, extra, lambda j: True)["status"] == "cancelled"
        if not fresh.uses_redis:
            assert results[0]["attempts"] == 2  # it was running when the API died
        listed = httpx.get(f"{second.base_url}/api/v1/jobs?status=running", headers=me).json()
        assert listed["items"] == []


def test_the_cli_runs_a_job_with_progress_and_lists_it(fresh: Backend, tmp_path: Path) -> None:
    env = {**jobs_env(fresh.env), "PARLEY_FAKE_GAP_MS": "0"}
    assert (
        run_cli(
            "user", "create", "cli-jobs@example.com", "--password", "correct horse battery", env=env
        ).returncode
        == 0
    )
    args = [
        "jobs",
        "run",
        "research",
        "--user",
        "cli-jobs@example.com",
        "--param",
        "topic=command lines",
        "--param",
        "steps=2",
    ]
    if fresh.uses_redis:
        with run_worker(env, tmp_path):
            ran = run_cli(*args, env=env)
    else:
        ran = run_cli(*args, env=env)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert '"status": "succeeded"' in ran.stdout and '"sections"' in ran.stdout
    listed = run_cli("jobs", "list", "--user", "cli-jobs@example.com", env=env)
    assert "research" in listed.stdout and "succeeded" in listed.stdout
    bad = run_cli(
        "jobs", "run", "research", "--user", "cli-jobs@example.com", "--param", "steps=12", env=env
    )
    assert bad.returncode == 3 and "VALIDATION_ERROR" in bad.stderr


def test_a_job_submitted_on_one_instance_notifies_a_socket_on_another(
    fresh: Backend, tmp_path: Path
) -> None:
    if not fresh.uses_redis:
        pytest.skip("crossing instances needs Redis: the postgres backend only")
    env = {**jobs_env(fresh.env), "PARLEY_FAKE_GAP_MS": "0"}
    with run_server(env, tmp_path) as a, run_server(env, tmp_path) as b, run_worker(env, tmp_path):
        me = sign_up(a.base_url)
        token = me["Authorization"].removeprefix("Bearer ")

        async def watch() -> tuple[dict, list[dict]]:
            ws = await open_socket(b, token)
            try:
                research = submit(a.base_url, me, "research", topic="far away", steps=1)
                updates: list[dict] = []
                while True:
                    frame = await next_frame(ws)
                    if frame["type"] == "job.updated":
                        updates.append(frame["job"])
                    if frame["type"] == "notification":
                        assert frame["notification"]["data"]["job_id"] == research["id"]
                        return frame["notification"], updates
            finally:
                await ws.close()

        notification, updates = asyncio.run(watch())
    assert notification["kind"] == "job.finished" and notification["read"] is False
    # Live progress reached the other instance too (event types travel on separate
    # channels, so the final update may arrive after the notification).
    assert [u["progress"] for u in updates if u["status"] == "running"][:1] == [
        pytest.approx(1 / 3, abs=0.01)
    ]
