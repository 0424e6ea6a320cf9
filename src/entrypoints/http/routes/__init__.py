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
    imports,
    jobs,
    metrics,
    notifications,
    openai_compat,
    playground,
    portability,
    search,
    usage,
    ws,
)

Hook = Callable[[AsyncContainer], Awaitable[None]]

STARTUP_HOOKS: list[Hook] = []
SHUTDOWN_HOOKS: list[Hook] = []
DRAIN_HOOKS: list[Hook] = []
"""Run on SIGTERM before the server stops accepting and closes connections."""
DRAIN_HOOKS.append(chat_lifecycle.stop_generations)
STARTUP_HOOKS.append(chat_lifecycle.recover_orphaned_generations)
SHUTDOWN_HOOKS.append(chat_lifecycle.stop_generations)  # first: replies still get indexed
STARTUP_HOOKS.append(search.start_search_index)
SHUTDOWN_HOOKS.append(search.stop_search_index)
STARTUP_HOOKS.append(portability.purge_expired_exports)
STARTUP_HOOKS.append(jobs.start_embedded_jobs)
SHUTDOWN_HOOKS.insert(0, jobs.stop_embedded_jobs)  # running jobs go back to the queue
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
        *jobs.ROUTES,
        *ws.ROUTES,
        *notifications.ROUTES,
        *usage.ROUTES,
        *admin.ROUTES,
        *health_history.ROUTES,
        *metrics.ROUTES,
        *playground.ROUTES,
        *portability.ROUTES,
        *imports.ROUTES,
    ]
