"""Helpers for the jobs API tests."""

from __future__ import annotations

import asyncio
from typing import Any

from httpx import AsyncClient

JOBS = "/api/v1/jobs"
FINISHED = {"succeeded", "failed", "cancelled"}


async def submit(client: AsyncClient, headers: dict[str, str], kind: str, **params: Any) -> dict:
    response = await client.post(JOBS, json={"kind": kind, "params": params}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def wait_for(
    client: AsyncClient, headers: dict[str, str], job_id: str, states: set[str] = FINISHED
) -> dict:
    """Poll until the job reaches one of ``states`` (bounded, so a stuck job fails)."""
    for _ in range(600):
        job = (await client.get(f"{JOBS}/{job_id}", headers=headers)).json()
        if job["status"] in states:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} stayed {job['status']}: {job}")


async def wait_for_progress(
    client: AsyncClient, headers: dict[str, str], job_id: str, at_least: float
) -> dict:
    for _ in range(600):
        job = (await client.get(f"{JOBS}/{job_id}", headers=headers)).json()
        if job["progress"] >= at_least or job["status"] in FINISHED:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} made no progress: {job}")
