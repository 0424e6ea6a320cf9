"""Routers per resource, assembled once here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dishka import AsyncContainer

from entrypoints import chat_lifecycle
from entrypoints.http.routes import (
    admin,
    api_keys,
    auth,
    conversations,
    health,
    health_history,
    metrics,
    notifications,
    openai_compat,
    playground,
    search,
    usage,
    ws,
)

Hook = Callable[[AsyncContainer], Awaitable[None]]

STARTUP_HOOKS: list[Hook] = []
SHUTDOWN_HOOKS: list[Hook] = []
STARTUP_HOOKS.append(chat_lifecycle.recover_orphaned_generations)
SHUTDOWN_HOOKS.append(chat_lifecycle.stop_generations)  # first: replies still get indexed
STARTUP_HOOKS.append(search.start_search_index)
SHUTDOWN_HOOKS.append(search.stop_search_index)
STARTUP_HOOKS.append(health_history.start_health_history)
SHUTDOWN_HOOKS.insert(0, health_history.stop_health_history)


def all_routes() -> list[Any]:
    return [
        *health.ROUTES,
        *openai_compat.ROUTES,
        *auth.ROUTES,
        *api_keys.ROUTES,
        *conversations.ROUTES,
        *search.ROUTES,
        *ws.ROUTES,
        *notifications.ROUTES,
        *usage.ROUTES,
        *admin.ROUTES,
        *health_history.ROUTES,
        *metrics.ROUTES,
        *playground.ROUTES,
    ]
