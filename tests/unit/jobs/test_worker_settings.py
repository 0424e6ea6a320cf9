"""A `parley worker` keeps a database connection for each job it runs at once."""

from __future__ import annotations

from entrypoints.job_worker import worker_settings
from entrypoints.settings import Settings, load_settings


def _settings(pool_size: int) -> Settings:
    return load_settings(
        {"PARLEY_DATABASE_POOL_SIZE": str(pool_size)}, toml_path="/nonexistent.toml"
    )


def test_a_pool_smaller_than_the_jobs_at_once_grows_to_them_and_the_sweep() -> None:
    settings = worker_settings(_settings(10), concurrency=20)
    assert settings.database.pool_size == 21
    assert settings.database.max_overflow == _settings(10).database.max_overflow


def test_a_pool_large_enough_is_left_as_configured() -> None:
    original = _settings(40)
    assert worker_settings(original, concurrency=20) is original
