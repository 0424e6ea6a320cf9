"""SIGTERM reaches the app's drain first; the server's own handler only once it is done."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator
from types import FrameType

import pytest

from entrypoints.http.draining import drain_on_signals


@pytest.fixture
def server_handlers() -> Iterator[list[int]]:
    """Stand-ins for uvicorn's handlers, recording the signals passed on to them."""
    forwarded: list[int] = []

    def record(sig: int, frame: FrameType | None) -> None:
        forwarded.append(sig)

    saved = {sig: signal.signal(sig, record) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield forwarded
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


async def until(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


async def test_sigterm_drains_then_reaches_the_server(server_handlers: list[int]) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def drain() -> None:
        started.set()
        await release.wait()

    restore = drain_on_signals(drain)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(started.wait(), 5)
        os.kill(os.getpid(), signal.SIGTERM)  # passed on by a supervisor: changes nothing
        await asyncio.sleep(0.05)
        assert server_handlers == []  # the server keeps serving while replies finish
        release.set()
        await until(lambda: server_handlers == [signal.SIGTERM], "never forwarded")
    finally:
        restore()


async def test_a_second_ctrl_c_stops_at_once(server_handlers: list[int]) -> None:
    never = asyncio.Event()

    async def drain() -> None:
        await never.wait()

    restore = drain_on_signals(drain)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        assert server_handlers == []
        os.kill(os.getpid(), signal.SIGINT)
        await until(lambda: server_handlers == [signal.SIGINT], "the second Ctrl-C waited")
    finally:
        never.set()
        await asyncio.sleep(0.01)  # the drain ends (and passes its signal on, once more)
        restore()
