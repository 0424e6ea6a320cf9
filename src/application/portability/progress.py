"""How long-running use cases talk to whoever runs them (a job worker, the CLI)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Progress = Callable[[float], Awaitable[None]]
"""Told how far the work is, 0..1; may be called often (implementations throttle)."""

CancelCheck = Callable[[], Awaitable[bool]]
"""Asked between units of work; True: stop now and report what was done."""


async def no_progress(fraction: float) -> None:
    return None


async def never_cancelled() -> bool:
    return False
