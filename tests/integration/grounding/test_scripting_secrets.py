"""A script's container takes an http context source's secrets from the environment the
script gave, not from the process's."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.providers.grounding import ContextSourceSecrets
from tests.unit.grounding.test_context_source_secrets import TOML


async def test_a_scripting_container_gets_the_secrets_of_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entrypoints.scripting import open_parley

    toml = tmp_path / "parley.toml"
    toml.write_text(TOML)
    monkeypatch.setenv("ORDERS_TOKEN", "Bearer of-the-process")
    environ = {"PARLEY_DATA_DIR": str(toml.parent), "ORDERS_TOKEN": "Bearer of-the-script"}
    async with open_parley(environ, toml, migrate=False) as parley:
        secrets = await parley.container.get(ContextSourceSecrets)
    assert secrets.headers["orders"] == {"Authorization": "Bearer of-the-script"}
