"""`parley check` and `parley migrate` against real dependencies, as an operator runs them."""

from __future__ import annotations

import pytest

from tests.support.backends import Backend
from tests.support.cli import run_cli

pytestmark = pytest.mark.e2e


def test_check_passes_when_every_dependency_is_reachable(backend: Backend) -> None:
    result = run_cli("check", env=backend.env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "database" in result.stdout
    assert "all dependencies reachable" in result.stdout


def test_check_fails_with_a_clear_message_when_redis_is_down(backend: Backend) -> None:
    env = {**backend.env, "PARLEY_REDIS_URL": "redis://127.0.0.1:1/0"}
    result = run_cli("check", env=env)
    assert result.returncode == 1
    assert "cache" in result.stdout and "down" in result.stdout
    assert "some dependencies are down" in result.stderr


def test_check_fails_when_the_database_is_unreachable(backend: Backend) -> None:
    env = {**backend.env, "PARLEY_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nope"}
    result = run_cli("check", env=env)
    assert result.returncode == 1
    assert "database" in result.stdout and "down" in result.stdout


def test_a_bad_setting_exits_2_naming_the_variable(backend: Backend) -> None:
    result = run_cli("check", env={**backend.env, "PARLEY_FAKE_GAP_MS": "later"})
    assert result.returncode == 2
    assert "PARLEY_FAKE_GAP_MS" in result.stderr


def test_migrate_is_idempotent_and_reports_the_head_revision(backend: Backend) -> None:
    first = run_cli("migrate", env=backend.env)
    second = run_cli("migrate", env=backend.env)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "database at revision" in second.stdout
    assert "None" not in second.stdout
