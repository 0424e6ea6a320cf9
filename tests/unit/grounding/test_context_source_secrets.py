"""An http context source's secret headers come from the environment the settings were
loaded from, read once, never from the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.providers.grounding import ContextSourceSecrets
from entrypoints.settings import SettingsError, load_settings

TOML = """
[context_sources.orders]
kind = "http"
url = "http://127.0.0.1:9/context"
headers_env = { Authorization = "ORDERS_TOKEN" }

[context_sources.mine]
kind = "history"
"""


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "parley.toml"
    path.write_text(TOML)
    return path


def test_the_header_values_are_read_from_the_given_environment(toml: Path) -> None:
    environ = {"PARLEY_DATA_DIR": str(toml.parent), "ORDERS_TOKEN": "Bearer s3cret"}
    settings = load_settings(environ, toml)
    secrets = ContextSourceSecrets.read(settings, environ)
    assert secrets.headers["orders"] == {"Authorization": "Bearer s3cret"}
    assert secrets.headers["mine"] == {}


def test_a_variable_set_only_outside_the_given_environment_is_missing(
    toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_TOKEN", "Bearer elsewhere")
    environ = {"PARLEY_DATA_DIR": str(toml.parent)}
    settings = load_settings(environ, toml)
    with pytest.raises(SettingsError, match="ORDERS_TOKEN is not set"):
        ContextSourceSecrets.read(settings, environ)
