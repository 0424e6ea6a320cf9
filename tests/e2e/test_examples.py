"""Every script in examples/ runs against a fresh embedded Parley and does what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mock_openai import MockUpstream
from tests.support.server import ROOT

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, env: dict[str, str]) -> str:
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
        **env,
        "PYTHONPATH": str(ROOT / "src"),
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_examples_create_a_user_chat_search_and_switch_provider(tmp_path: Path) -> None:
    env = {
        "PARLEY_DATA_DIR": str(tmp_path),
        "PARLEY_SECRET_KEY": "example-secret-key-of-sufficient-length-0123",
        "PARLEY_EXAMPLE_PASSWORD": "correct horse battery",
        "PARLEY_LOG_LEVEL": "warning",
    }
    user_id = run_example("create_user.py", "ada@example.com", env=env).strip()
    assert len(user_id) == 36
    chat = run_example("chat_turn.py", "ada@example.com", "Plan a day in Lisbon", env=env)
    conversation_line, reply = chat.splitlines()[:2]
    assert conversation_line.startswith("conversation ") and reply.strip()
    found = run_example("search_history.py", "ada@example.com", "Lisbon", env=env)
    assert "user: Plan a day in Lisbon" in found
    default = run_example("switch_provider.py", "ada@example.com", env=env)
    assert "default: parley-fake" in default
    with MockUpstream.start_thread() as mock:
        switched_env = {
            **env,
            "PARLEY_LLM_PROVIDER": "openai",
            "PARLEY_LLM_BASE_URL": mock.url,
            "PARLEY_LLM_API_KEY": "sk-example",
            "PARLEY_LLM_MODEL": "example-upstream",
        }
        switched = run_example("switch_provider.py", "ada@example.com", env=switched_env)
        assert "default: example-upstream" in switched and mock.calls("example-upstream") == 1
