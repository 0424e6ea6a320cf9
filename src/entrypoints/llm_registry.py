"""Settings -> model catalog, provider adapters and routing policy.

The simple case needs env only (``PARLEY_LLM_PROVIDER`` etc.): it becomes a provider named
``default`` and, when ``[[models]]`` is empty, one model ``PARLEY_LLM_MODEL``. ``parley.toml``
may add ``[providers.<name>]`` and ``[[models]]``; an API key is read from the environment
variable named by ``api_key_env``, never from the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal

from application.llm.policy import BreakerPolicy, ProviderLimits, RoutingPolicy
from application.ports.llm import LLMProvider
from domain.catalog import ModelCatalog, ModelSpec
from entrypoints.settings import ProviderSettings, Settings, SettingsError

DEFAULT_PROVIDER = "default"


def provider_settings(settings: Settings) -> dict[str, ProviderSettings]:
    """Declared providers, plus ``default`` from PARLEY_LLM_* unless the file declares one."""
    llm = settings.llm
    declared = dict(settings.providers)
    declared.setdefault(
        DEFAULT_PROVIDER, ProviderSettings(kind=llm.provider, base_url=llm.base_url)
    )
    return declared


def build_catalog(settings: Settings) -> ModelCatalog:
    llm = settings.llm
    providers = provider_settings(settings)
    if not settings.models:
        spec = ModelSpec(
            id=llm.model,
            provider=DEFAULT_PROVIDER,
            upstream_model=llm.model,
            context_window=llm.context_window,
            max_output_tokens=llm.max_tokens,
        )
        return ModelCatalog(models=(spec,), default_model=spec.id)
    specs = []
    for m in settings.models:
        if m.provider not in providers:
            raise SettingsError(f"model {m.id!r}: unknown provider {m.provider!r}")
        specs.append(
            ModelSpec(
                id=m.id,
                provider=m.provider,
                upstream_model=m.upstream_model or m.id,
                context_window=m.context_window,
                max_output_tokens=m.max_output_tokens,
                input_price_per_million=Decimal(str(m.input_price_per_million)),
                output_price_per_million=Decimal(str(m.output_price_per_million)),
                fallbacks=tuple(m.fallbacks),
                allowed_params=frozenset(m.allowed_params),
            )
        )
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise SettingsError("[[models]]: model ids must be unique")
    for spec in specs:
        for fallback in spec.fallbacks:
            if fallback not in ids:
                raise SettingsError(f"model {spec.id!r}: unknown fallback {fallback!r}")
    default = llm.model if llm.model in ids else ids[0]
    return ModelCatalog(models=tuple(specs), default_model=default)


def routing_policy(settings: Settings) -> RoutingPolicy:
    llm = settings.llm
    return RoutingPolicy(
        default_limits=_limits(settings, ProviderSettings()),
        retry_backoff_s=llm.retry_backoff_s,
        max_retry_after_s=llm.max_retry_after_s,
        mid_stream=llm.mid_stream_failure,
        breaker=BreakerPolicy(
            failure_ratio=llm.breaker_failure_ratio,
            min_calls=llm.breaker_min_calls,
            window_s=llm.breaker_window_s,
            cooldown_s=llm.breaker_cooldown_s,
        ),
        max_response_chars=llm.max_response_chars,
    )


def provider_limits(settings: Settings) -> dict[str, ProviderLimits]:
    return {name: _limits(settings, p) for name, p in provider_settings(settings).items()}


def _limits(settings: Settings, p: ProviderSettings) -> ProviderLimits:
    llm = settings.llm
    return ProviderLimits(
        max_retries=llm.max_retries if p.max_retries is None else p.max_retries,
        first_token_timeout_s=p.first_token_timeout_s or llm.first_token_timeout_s,
        idle_timeout_s=p.idle_timeout_s or llm.idle_timeout_s,
        total_timeout_s=p.request_timeout_s or llm.request_timeout_s,
    )


def build_llm_providers(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> dict[str, LLMProvider]:
    """One adapter per configured provider (imported lazily: the openai SDK is heavy)."""
    environ = os.environ if environ is None else environ
    built: dict[str, LLMProvider] = {}
    for name, p in provider_settings(settings).items():
        if p.kind == "fake":
            built[name] = _fake(name, settings, p)
        else:
            built[name] = _openai(name, settings, p, environ)
    return built


def _fake(name: str, settings: Settings, p: ProviderSettings) -> LLMProvider:
    from adapters.llm.fake import FakeBehaviour, FakeLLMProvider

    fake = settings.fake
    behaviour = FakeBehaviour(
        ttft_ms=fake.ttft_ms if p.ttft_ms is None else p.ttft_ms,
        gap_ms=fake.gap_ms if p.gap_ms is None else p.gap_ms,
        fail_after=fake.fail_after if p.fail_after is None else p.fail_after,
        reply=fake.reply if p.reply is None else p.reply,
    )
    return FakeLLMProvider(name, behaviour)


def _openai(
    name: str, settings: Settings, p: ProviderSettings, environ: Mapping[str, str]
) -> LLMProvider:
    from adapters.llm.openai_provider import OpenAIProvider

    if name == DEFAULT_PROVIDER and not p.api_key_env:
        api_key = settings.llm.api_key
    else:
        api_key = environ.get(p.api_key_env, "") if p.api_key_env else ""
    limits = _limits(settings, p)
    return OpenAIProvider(
        name,
        base_url=p.base_url or None,
        api_key=api_key,
        connect_timeout_s=p.connect_timeout_s or settings.llm.connect_timeout_s,
        read_timeout_s=max(limits.first_token_timeout_s, limits.idle_timeout_s),
        max_response_chars=settings.llm.max_response_chars,
    )
