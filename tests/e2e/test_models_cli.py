"""`parley models` and `parley check` see every configured provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.backends import Backend
from tests.support.cli import run_cli
from tests.support.mock_openai import free_port

pytestmark = pytest.mark.e2e

TOML = """
[llm]
model = "smart"

[providers.offline]
base_url = "http://127.0.0.1:{port}/v1"
api_key_env = "OFFLINE_KEY"

[providers.local]
kind = "fake"

[[models]]
id = "smart"
provider = "offline"
upstream_model = "llama3:8b"
input_price_per_million = 0.5
fallbacks = ["demo"]

[[models]]
id = "demo"
provider = "local"
"""


def config(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "parley.toml"
    path.write_text(TOML.format(port=free_port()))
    return {"PARLEY_CONFIG": str(path), "OFFLINE_KEY": "sk-never-printed"}


def test_models_lists_each_model_with_provider_upstream_and_state(
    backend: Backend, tmp_path: Path
) -> None:
    result = run_cli("models", env={**backend.env, **config(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    smart = next(line for line in lines if line.startswith("smart"))
    demo = next(line for line in lines if line.startswith("demo"))
    assert "(default)" in smart and "offline (openai)" in smart and "llama3:8b" in smart
    assert "demo" in smart and "unreachable" in smart
    assert "local (fake)" in demo and "closed" in demo
    assert "sk-never-printed" not in result.stdout + result.stderr


def test_check_reports_an_unreachable_provider_as_degraded(
    backend: Backend, tmp_path: Path
) -> None:
    result = run_cli("check", env={**backend.env, **config(tmp_path)})
    llm_line = next(line for line in result.stdout.splitlines() if "llm" in line)
    assert "degraded" in llm_line
    assert "offline: closed, unreachable" in llm_line and "local: closed" in llm_line


def test_check_fails_when_no_provider_is_reachable(backend: Backend, tmp_path: Path) -> None:
    path = tmp_path / "parley.toml"
    path.write_text(f'[llm]\nprovider = "openai"\nbase_url = "http://127.0.0.1:{free_port()}/v1"\n')
    result = run_cli("check", env={**backend.env, "PARLEY_CONFIG": str(path)})
    assert result.returncode == 1
    llm_line = next(line for line in result.stdout.splitlines() if "llm" in line)
    assert "down" in llm_line and "default: closed, unreachable" in llm_line
