"""Start the real `parley serve` process on a free port for end-to-end tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def leaked_secrets(self) -> list[str]:
        """Lines of the server log that carry a bearer token, an API key or a password (R25)."""
        return [line for line in self.logs().splitlines() if _SECRET.search(line)]


_SECRET = re.compile(
    r"Bearer\s+\S{8,}|\bpk_[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]{10,}\.eyJ|password\W+\w"
)


@contextmanager
def run_server(
    env: dict[str, str],
    log_dir: Path,
    *,
    ready_timeout_s: float = 30.0,
    args: tuple[str, ...] = (),
) -> Iterator[RunningServer]:
    """``parley serve`` (plus ``args``) on a free port, until the block ends."""
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
        **env,
        "PARLEY_HOST": "127.0.0.1",
        "PARLEY_PORT": str(port),
        "PYTHONPATH": str(ROOT / "src"),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve", *args],
            env=full_env,
            cwd=str(log_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", port, process, log_path)
    try:
        _wait_ready(server, ready_timeout_s)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_ready(server: RunningServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.logs()}")
        try:
            if httpx.get(f"{server.base_url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready in {timeout_s}s:\n{server.logs()}")
