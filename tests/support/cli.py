"""Run the real `parley` command line as a subprocess with a backend's environment."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.server import ROOT


def run_cli(
    *args: str, env: dict[str, str], input_text: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
        **env,
        "PYTHONPATH": str(ROOT / "src"),
    }
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=full_env,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
