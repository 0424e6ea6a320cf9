"""``noop`` (internal): does nothing; measures the queue itself (bench/jobs.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.jobs.handlers import JobContext, JobHandler


class NoopJob(JobHandler):
    kind = "noop"
    admin_only = False
    internal = True

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    async def run(self, context: JobContext) -> dict[str, Any]:
        return {}
