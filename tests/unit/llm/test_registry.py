from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from application.llm.router import LLMRouter
from domain.catalog import ModelCatalog
from entrypoints.llm_registry import build_catalog, build_llm_providers, provider_limits
from entrypoints.settings import Settings, SettingsError, load_settings

NO_FILE = Path("/nonexistent/parley.toml")

TOML = """
[llm]
model = "smart"
first_token_timeout_s = 9

[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:1/v1"
api_key_env = "LOCAL_LLM_KEY"
first_token_timeout_s = 2
max_retries = 0

[providers.demo]
kind = "fake"
reply = "canned"

[[models]]
id = "smart"
provider = "local"
upstream_model = "llama3"
context_window = 32000
max_output_tokens = 2000
input_price_per_million = 0.5
output_price_per_million = 1.5
fallbacks = ["demo"]
allowed_params = ["seed"]

[[models]]
id = "demo"
provider = "demo"
"""


def test_env_alone_gives_one_fake_model_named_by_parley_llm_model() -> None:
    settings = load_settings({"PARLEY_LLM_MODEL": "my-fake"}, NO_FILE)
    catalog = build_catalog(settings)
    assert catalog.ids() == ["my-fake"] and catalog.default_model == "my-fake"
    assert catalog.get(None).provider == "default"
    assert type(build_llm_providers(settings)["default"]).__name__ == "FakeLLMProvider"


def test_the_default_model_is_parley_fake() -> None:
    assert build_catalog(load_settings({}, NO_FILE)).ids() == ["parley-fake"]


def test_the_toml_file_declares_providers_models_prices_and_fallbacks(tmp_path: Path) -> None:
    path = tmp_path / "parley.toml"
    path.write_text(TOML)
    settings = load_settings({}, path)
    catalog = build_catalog(settings)
    smart = catalog.get("smart")
    assert catalog.default_model == "smart"
    assert smart.upstream_model == "llama3" and smart.fallbacks == ("demo",)
    assert smart.input_price_per_million == Decimal("0.5")
    assert smart.allowed_params == frozenset({"seed"})
    assert catalog.get("demo").upstream_model == "demo"
    limits = provider_limits(settings)
    assert limits["local"].first_token_timeout_s == 2 and limits["local"].max_retries == 0
    assert limits["demo"].first_token_timeout_s == 9


def test_the_api_key_comes_from_the_variable_named_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "parley.toml"
    path.write_text(TOML)
    settings = load_settings({}, path)
    adapters = build_llm_providers(settings, {"LOCAL_LLM_KEY": "sk-from-env"})
    assert adapters["local"].api_key == "sk-from-env"  # type: ignore[attr-defined]


def test_a_model_naming_an_unknown_provider_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "parley.toml"
    path.write_text('[[models]]\nid = "x"\nprovider = "nowhere"\n')
    with pytest.raises(SettingsError, match="nowhere"):
        build_catalog(load_settings({}, path))


def test_an_unknown_fallback_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "parley.toml"
    path.write_text('[[models]]\nid = "x"\nfallbacks = ["ghost"]\n')
    with pytest.raises(SettingsError, match="ghost"):
        build_catalog(load_settings({}, path))


async def test_the_llm_wiring_provides_the_catalog_and_a_working_router() -> None:
    from dishka import Provider, Scope, make_async_container

    from entrypoints.providers import llm

    context = Provider()
    context.from_context(provides=Settings, scope=Scope.APP)
    settings = load_settings({"PARLEY_ENV": "test"}, NO_FILE)
    container = make_async_container(context, llm.LLMWiring(), context={Settings: settings})
    try:
        router = await container.get(LLMRouter)
        assert router.catalog is await container.get(ModelCatalog)
        spec = router.resolve(None)
        routed = await router.complete(spec, [], max_tokens=50)
        assert routed.model_id == "parley-fake" and routed.completion.content
    finally:
        await container.close()
