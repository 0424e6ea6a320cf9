"""An SSE client that keeps what the wire said: whether each event had its own ``id:`` line
(a parser that carries the last id over would hide a missing one)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/v1/conversations"


@dataclass(frozen=True)
class WireEvent:
    id: str | None
    """The event's own ``id:`` line, None if it had none."""
    kind: str
    data: Any
    at: float
    """time.monotonic() when it arrived."""


@dataclass
class Reading:
    """What one client received of one reply's stream, as it arrives."""

    events: list[WireEvent] = field(default_factory=list)
    status: int | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "".join(e.data["content"] for e in self.events if e.kind == "delta")

    @property
    def last_id(self) -> str:
        return next((e.id for e in reversed(self.events) if e.id is not None), "0")

    @property
    def final(self) -> WireEvent | None:
        last = self.events[-1] if self.events else None
        return last if last is not None and last.kind in ("done", "error") else None

    async def wait_for(self, count: int, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.events) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {len(self.events)} events arrived"
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                continue


async def read_sse(
    http: httpx.AsyncClient, method: str, url: str, into: Reading, **kw: Any
) -> None:
    """Read an SSE response into ``into`` until the server ends it (or the connection
    breaks: a server killed mid-stream)."""
    async with http.stream(method, url, **kw) as response:
        into.status = response.status_code
        if response.status_code != 200:
            await response.aread()
            into.events.append(WireEvent(None, "http", response.json(), time.monotonic()))
            return
        fields: dict[str, str] = {}
        try:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    continue
                if line == "":
                    if "data" in fields:
                        data = json.loads(fields["data"])
                        event = WireEvent(fields.get("id"), fields.get("event", "message"), data,
                                          time.monotonic())  # fmt: skip
                        into.events.append(event)
                        into.changed.set()
                    fields = {}
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        except (httpx.RemoteProtocolError, httpx.ReadError):
            return  # the server went away mid-stream


def send_url(conversation_id: str) -> str:
    return f"{API}/{conversation_id}/messages"


def events_url(conversation_id: str, generation_id: str) -> str:
    return f"{API}/{conversation_id}/generations/{generation_id}/events"
