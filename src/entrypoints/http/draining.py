"""Drain before the server stops: on SIGTERM (or Ctrl-C), `parley serve` first lets the
running replies finish, then hands the signal to uvicorn.

uvicorn, on its own, stops by waiting for open connections (a reply streaming to its client
is one) at most its graceful-shutdown timeout, then cancels them: a long reply would be
cut with no final event, and a request waiting for its reply would get a plain-text 500.
So the signal reaches the app first: ``drain`` refuses new turns and ends every running
reply (finished, or stopped after the grace period and stored as streamed), and every
stream has sent its final event by the time uvicorn closes the connections. A second
Ctrl-C during the drain stops at once, as with uvicorn alone.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

import structlog

log = structlog.get_logger("parley.http")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
Drain = Callable[[], Awaitable[None]]


def drain_on_signals(drain: Drain) -> Callable[[], None]:
    """Install the handlers (in the serving process's main thread, inside its running loop,
    after uvicorn installed its own); returns a function that puts uvicorn's back."""
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in SIGNALS}
    tasks: set[asyncio.Task[None]] = set()
    asked: list[int] = []

    def forward(sig: int, frame: FrameType | None) -> None:
        handler = previous.get(sig)
        if callable(handler):
            handler(sig, frame)

    async def drain_then_forward(sig: int) -> None:
        log.info("shutdown_draining", signal=signal.Signals(sig).name)
        try:
            await drain()
        except Exception:
            log.exception("shutdown_drain_failed")
        finally:
            forward(sig, None)

    def start(sig: int) -> None:
        task = loop.create_task(drain_then_forward(sig), name="shutdown-drain")
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        if asked:
            # As uvicorn does: a second Ctrl-C stops now; another SIGTERM (a supervisor
            # passing on the Ctrl-C its workers already got) changes nothing.
            if sig == signal.SIGINT:
                forward(sig, frame)
            return
        asked.append(sig)
        # A signal handler may run between any two bytecodes of the loop: schedule only.
        loop.call_soon_threadsafe(start, sig)

    try:
        for sig in SIGNALS:
            signal.signal(sig, on_signal)
    except ValueError:  # not the main thread: the server handles signals its own way
        log.warning("shutdown_drain_not_installed")

    def restore() -> None:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)

    return restore
