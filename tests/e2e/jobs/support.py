"""Real `parley serve` and `parley worker` processes for the jobs end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import ROOT

FINISHED = {"succeeded", "failed", "cancelled"}
# Short leases and sweeps so a dead process is noticed in seconds; a fake model slow
# enough (about 20 ms a word) that a research job is caught while it runs.
JOBS_ENV = {
    "PARLEY_FAKE_GAP_MS": "20",
    "PARLEY_JOBS_LEASE_S": "2",
    "PARLEY_JOBS_HEARTBEAT_S": "0.3",
    "PARLEY_JOBS_SWEEP_INTERVAL_S": "1",
    "PARLEY_JOBS_RETRY_DELAY_S": "0.2",
    "PARLEY_JOBS_CONCURRENCY": "1",
    "PARLEY_JOBS_SHUTDOWN_GRACE_S": "0",
    "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
}


def jobs_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, **JOBS_ENV, "PARLEY_JOBS_QUEUE_NAME": f"e2e-{uuid.uuid4().hex[:8]}"}


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def run_worker(env: dict[str, str], log_dir: Path, concurrency: int = 1) -> Iterator[Worker]:
    log_path = log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
        **env,
        "PYTHONPATH": str(ROOT / "src"),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "worker", "--concurrency", str(concurrency)],
            env=full_env,
            cwd=str(log_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, log_path)
    try:
        yield worker
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    process.kill()  # SIGKILL: no shutdown hook, no release of the running job
    process.wait(timeout=10)


def sign_up(base_url: str) -> dict[str, str]:
    email = f"jobs-{uuid.uuid4().hex[:10]}@example.com"
    response = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def submit(base_url: str, headers: dict[str, str], kind: str, **params: Any) -> dict:
    response = httpx.post(
        f"{base_url}/api/v1/jobs", json={"kind": kind, "params": params}, headers=headers
    )
    assert response.status_code == 202, response.text
    return response.json()


def job(base_url: str, headers: dict[str, str], job_id: str) -> dict:
    response = httpx.get(f"{base_url}/api/v1/jobs/{job_id}", headers=headers, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def wait_until(
    base_url: str, headers: dict[str, str], job_id: str, done: Any, timeout_s: float = 90
) -> dict:
    """Poll until ``done(job)``; bounded so a stuck job fails the test instead of hanging."""
    deadline = time.monotonic() + timeout_s
    current: dict = {}
    while time.monotonic() < deadline:
        current = job(base_url, headers, job_id)
        if done(current):
            return current
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never got there: {current}")
