"""Talking to a real `parley serve` like a chat client does: httpx + httpx-sse."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import aconnect_sse

API = "/api/v1/conversations"


@dataclass
class Received:
    """What one client saw of one reply's stream."""

    events: list[tuple[str, str, Any]] = field(default_factory=list)  # (id, event, data)

    @property
    def text(self) -> str:
        return "".join(d["content"] for _, kind, d in self.events if kind == "delta")

    @property
    def ids(self) -> list[int]:
        return [int(i) for i, _, _ in self.events]

    @property
    def last(self) -> tuple[str, str, Any]:
        return self.events[-1]


async def sign_up(http: httpx.AsyncClient) -> dict[str, str]:
    email = f"e2e-chat-{uuid.uuid4().hex[:12]}@example.com"
    response = await http.post(
        "/api/v1/auth/register", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def new_conversation(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await http.post(API, json={}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def stream_reply(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    conversation_id: str,
    content: str,
    *,
    stop_after: int | None = None,
) -> Received:
    """POST a message as SSE; read ``stop_after`` events (all if None), then hang up."""
    received = Received()
    url = f"{API}/{conversation_id}/messages"
    body = {"content": content, "stream": True}
    async with aconnect_sse(http, "POST", url, json=body, headers=headers) as source:
        assert source.response.status_code == 200, await source.response.aread()
        async for sse in source.aiter_sse():
            received.events.append((sse.id, sse.event, json.loads(sse.data)))
            if stop_after is not None and len(received.events) >= stop_after:
                break
    return received


async def resume(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    conversation_id: str,
    generation_id: str,
    last_event_id: str,
) -> Received:
    received = Received()
    url = f"{API}/{conversation_id}/generations/{generation_id}/events"
    async with aconnect_sse(
        http, "GET", url, headers={**headers, "Last-Event-ID": last_event_id}
    ) as source:
        assert source.response.status_code == 200
        async for sse in source.aiter_sse():
            received.events.append((sse.id, sse.event, json.loads(sse.data)))
    return received


async def stored_reply(
    http: httpx.AsyncClient, headers: dict[str, str], conversation_id: str, message_id: str
) -> dict[str, Any]:
    response = await http.get(f"{API}/{conversation_id}/messages?limit=100", headers=headers)
    assert response.status_code == 200
    return next(m for m in response.json()["items"] if m["id"] == message_id)
