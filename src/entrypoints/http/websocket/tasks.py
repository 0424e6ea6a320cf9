"""Background work a socket starts but must not own.

asyncio keeps only weak references to tasks, so a task nobody awaits can vanish mid-flight;
these helpers hold a reference until it is done and log failures nobody will retrieve.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import structlog

from domain.errors import DomainError

log = structlog.get_logger("parley.ws")

T = TypeVar("T")

_RUNNING: set[asyncio.Task[Any]] = set()


def spawn(work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(work)
    _RUNNING.add(task)
    task.add_done_callback(_finished)
    return task


async def shielded(work: Coroutine[Any, Any, T]) -> T:
    """Await ``work`` in its own task: cancelling the caller (the socket went away) leaves
    it running to the end. Used where stopping half-way would leave state behind, such as
    a stored user message whose reply never starts."""
    return await asyncio.shield(spawn(work))


def _finished(task: asyncio.Task[Any]) -> None:
    _RUNNING.discard(task)
    if task.cancelled():
        return
    error = task.exception()  # retrieved here, so an abandoned task never warns twice
    if error is not None and not isinstance(error, DomainError):
        log.error("ws_background_task_failed", error=type(error).__name__, exc_info=error)
