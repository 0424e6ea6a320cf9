"""Helpers for chat API tests: accounts, conversations and an SSE parser."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from httpx import ASGITransport, AsyncClient

API = "/api/v1/conversations"


async def sign_up(client: AsyncClient) -> dict[str, str]:
    """A fresh account; its bearer headers."""
    email = f"chat-{uuid.uuid4().hex[:12]}@example.com"
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def new_conversation(client: AsyncClient, headers: dict[str, str], **body: Any) -> dict:
    response = await client.post(API, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class SseEvent:
    id: str | None
    event: str
    data: Any


def parse_sse(text: str) -> list[SseEvent]:
    """A strict reading of the SSE framing: one JSON ``data`` line per event."""
    events: list[SseEvent] = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        fields: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
        assert set(fields) <= {"id", "event", "data"}, block
        assert len(fields["data"]) == 1, block
        event_id = fields.get("id", [None])[0]
        events.append(SseEvent(event_id, fields["event"][0], json.loads(fields["data"][0])))
    return events


def streamed_text(events: list[SseEvent]) -> str:
    return "".join(e.data["content"] for e in events if e.event == "delta")


@asynccontextmanager
async def in_loop_client(app: Any) -> AsyncIterator[AsyncClient]:
    """An httpx client running ``app`` in this event loop, lifespan included.

    Litestar's test client runs each request to completion in a portal thread, so two
    requests can never overlap; this one lets a test cancel a reply while it streams.
    """
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    )
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://chat.test") as http:
            yield http
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await lifespan
