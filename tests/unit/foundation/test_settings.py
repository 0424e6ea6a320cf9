from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import (
    DEFAULT_SECRET_KEY,
    SettingsError,
    describe_settings,
    load_settings,
    unknown_env_vars,
)

NO_FILE = Path("/nonexistent/parley.toml")


def test_defaults_give_the_embedded_sqlite_database_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({"PARLEY_DATA_DIR": str(tmp_path)}, NO_FILE)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    assert not settings.uses_postgres
    assert settings.redis.url == ""


def test_environment_wins_over_the_toml_file(tmp_path: Path) -> None:
    toml = tmp_path / "parley.toml"
    toml.write_text(
        '[fake]\nttft_ms = 5\ngap_ms = 7\n[database]\nurl = "postgresql+asyncpg://x/y"\n'
    )
    settings = load_settings({"PARLEY_FAKE_TTFT_MS": "11"}, toml)
    assert settings.fake.ttft_ms == 11
    assert settings.fake.gap_ms == 7
    assert settings.uses_postgres


def test_list_settings_are_comma_separated_in_the_environment() -> None:
    settings = load_settings(
        {"PARLEY_HTTP_CORS_ORIGINS": "https://a.example, https://b.example"}, NO_FILE
    )
    assert settings.http.cors_origins == ["https://a.example", "https://b.example"]


def test_a_bad_value_names_the_variable_it_came_from() -> None:
    with pytest.raises(SettingsError, match="PARLEY_FAKE_GAP_MS"):
        load_settings({"PARLEY_FAKE_GAP_MS": "soon"}, NO_FILE)


def test_a_bad_value_in_the_toml_file_names_the_file_and_key(tmp_path: Path) -> None:
    toml = tmp_path / "parley.toml"
    toml.write_text("[auth]\naccess_ttl_s = 3600\n")
    with pytest.raises(SettingsError, match=r"auth\.access_ttl_s"):
        load_settings({}, toml)


def test_access_tokens_cannot_be_configured_to_live_longer_than_15_minutes() -> None:
    with pytest.raises(SettingsError, match="PARLEY_AUTH_ACCESS_TTL_S"):
        load_settings({"PARLEY_AUTH_ACCESS_TTL_S": "901"}, NO_FILE)


def test_unknown_keys_in_the_toml_file_are_refused(tmp_path: Path) -> None:
    toml = tmp_path / "parley.toml"
    toml.write_text("[database]\nulr = 'typo'\n")
    with pytest.raises(SettingsError, match="ulr"):
        load_settings({}, toml)


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-secret", ""])
def test_production_refuses_a_missing_default_or_short_secret(secret: str) -> None:
    with pytest.raises(SettingsError, match="PARLEY_SECRET_KEY"):
        load_settings({"PARLEY_ENV": "production", "PARLEY_SECRET_KEY": secret}, NO_FILE)


def test_production_turns_docs_off_unless_asked() -> None:
    secret = "x" * 48
    prod = load_settings({"PARLEY_ENV": "production", "PARLEY_SECRET_KEY": secret}, NO_FILE)
    asked = load_settings(
        {
            "PARLEY_ENV": "production",
            "PARLEY_SECRET_KEY": secret,
            "PARLEY_HTTP_DOCS_ENABLED": "true",
        },
        NO_FILE,
    )
    assert prod.docs_enabled is False
    assert prod.json_logs is True
    assert asked.docs_enabled is True


def test_wildcard_cors_with_credentials_is_refused() -> None:
    with pytest.raises(SettingsError, match="wildcard"):
        load_settings(
            {"PARLEY_HTTP_CORS_ORIGINS": "*", "PARLEY_HTTP_CORS_ALLOW_CREDENTIALS": "true"}, NO_FILE
        )


def test_every_setting_is_documented() -> None:
    rows = describe_settings()
    names = [name for name, _, _ in rows]
    assert "PARLEY_DATABASE_URL" in names and "PARLEY_SECRET_KEY" in names
    assert all(desc for _, _, desc in rows), [n for n, _, d in rows if not d]


def test_the_shipped_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "parley.example.toml"
    settings = load_settings({}, example)
    assert [m.id for m in settings.models] == ["gpt-4o-mini", "llama3.2", "parley-fake"]
    assert settings.providers["openai"].api_key_env == "OPENAI_API_KEY"
    assert settings.plans["team"].monthly_tokens == 20_000_000


def test_unknown_parley_variables_are_reported_as_probable_typos() -> None:
    environ = {
        "PARLEY_DATABSE_URL": "postgresql+asyncpg://x/y",
        "PARLEY_DATABASE_URL": "",
        "PARLEY_CONFIG": "x.toml",
        "PARLEY_TEST_REDIS_URL": "redis://",
        "HOME": "/root",
    }
    assert unknown_env_vars(environ) == ["PARLEY_DATABSE_URL"]


def test_environment_strings_are_coerced_by_the_fields_shape() -> None:
    from typing import Annotated, Literal

    from msgspec import Meta

    from entrypoints.settings import _coerce_env

    optional_int = Annotated[int, Meta(ge=0)] | None
    assert _coerce_env("none", optional_int) is None
    assert _coerce_env("", optional_int) is None
    assert _coerce_env("5", optional_int) == "5"  # msgspec converts it when building
    assert _coerce_env("a, b,", Annotated[list[str], Meta(max_length=9)]) == ["a", "b"]
    assert _coerce_env("x,y", frozenset[str] | None) == ["x", "y"]
    # a type whose text merely mentions "list[" or "None" is not a list or an optional
    assert _coerce_env("none", Literal["list[x]", "none"]) == "none"
    assert _coerce_env("a,b", str) == "a,b"
