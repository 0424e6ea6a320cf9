"""The composition root: which adapter serves which port, for the API, CLI and tests."""

from __future__ import annotations

from dishka import AsyncContainer, Provider, make_async_container

from entrypoints.providers import chat, identity, infra, notifications, search
from entrypoints.providers import grounding as grounding_providers
from entrypoints.providers import health as health_providers
from entrypoints.providers import llm as llm_providers
from entrypoints.providers import usage as usage_providers
from entrypoints.providers import websocket as websocket_providers
from entrypoints.settings import Settings


def build_providers(settings: Settings) -> list[Provider]:
    return [
        *infra.providers(settings),
        *llm_providers.providers(settings),
        *identity.providers(settings),
        *chat.providers(settings),
        *search.providers(settings),
        *notifications.providers(settings),
        *usage_providers.providers(settings),
        *websocket_providers.providers(settings),
        *health_providers.providers(settings),
        *grounding_providers.providers(settings),
    ]


def create_container(settings: Settings, *overrides: Provider) -> AsyncContainer:
    """Production providers chosen by settings, then ``overrides`` (later ones win)."""
    return make_async_container(
        *build_providers(settings), *overrides, context={Settings: settings}
    )
