"""Start the reference context service (tests/support/context_service.py) as a process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from tests.support.server import ROOT, free_port


@dataclass
class ContextService:
    url: str
    process: subprocess.Popen[str]

    def calls(self) -> list[dict]:
        return httpx.get(f"{self.url}/calls", timeout=5).json()["calls"]


@contextmanager
def run_context_service() -> Iterator[ContextService]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.context_service", str(port)],
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "ready" in line, line
        yield ContextService(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        process.wait(timeout=10)
