"""Bus events reach a user's sockets through the registry: frames encoded once, the reply's
own socket skipped, revocation re-checked at once, subscriptions dropped with the sockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID, uuid4

from adapters.memory.event_bus import MemoryEventBus
from application.identity.principal import Principal
from application.ports.event_bus import EventType, UserEvent
from domain.credentials import TokenRevoked
from entrypoints.http.websocket.connection import ChatSocket
from entrypoints.http.websocket.registry import SocketRegistry
from tests.unit.websocket.test_registry import ScriptedAuthenticate


class FakeWebSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed_with: tuple[int, str] | None = None

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self, code: int, reason: str = "") -> None:
        self.closed_with = (code, reason)


def principal(user: UUID) -> Principal:
    return Principal(user_id=user, role="user", plan="free", method="api_key")


def socket_of(user: UUID, credential: str = "key") -> tuple[ChatSocket, FakeWebSocket]:
    ws = FakeWebSocket()
    return ChatSocket(ws, principal(user), credential), ws  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_notification_goes_to_every_socket_of_its_user_and_no_other() -> None:
    bus, alice, bob = MemoryEventBus(), uuid4(), uuid4()
    auth = ScriptedAuthenticate({"key": principal(alice)})
    registry = SocketRegistry(auth, recheck_s=60, bus=bus)
    (a1, ws1), (a2, ws2), (b1, ws3) = socket_of(alice), socket_of(alice), socket_of(bob)
    for socket in (a1, a2, b1):
        registry.add(socket)
    note = {"id": str(uuid4()), "title": "Done"}
    await bus.publish(UserEvent(EventType.NOTIFICATION, alice, {"notification": note}))
    await settle()
    assert ws1.sent == ws2.sent == [{"type": "notification", "notification": note}]
    assert ws3.sent == []
    await registry.aclose()


async def test_message_completed_skips_the_socket_that_started_the_reply() -> None:
    bus, user = MemoryEventBus(), uuid4()
    registry = SocketRegistry(ScriptedAuthenticate({}), recheck_s=60, bus=bus)
    (starter, starter_ws), (other, other_ws) = socket_of(user), socket_of(user)
    registry.add(starter)
    registry.add(other)
    generation = uuid4()
    starter.chat_starting()  # the reply finishes before the start returns to the socket
    message = {"id": str(uuid4()), "generation_id": str(generation), "status": "complete"}
    await bus.publish(UserEvent(EventType.MESSAGE_COMPLETED, user, {"message": message}))
    await settle()
    starter.chat_started(generation)
    await settle()
    assert other_ws.sent == [{"type": "message.completed", "message": message}]
    assert starter_ws.sent == []
    await registry.aclose()


async def test_a_pushed_revocation_closes_the_users_revoked_sockets_at_once() -> None:
    bus, user = MemoryEventBus(), uuid4()
    auth = ScriptedAuthenticate({"old": TokenRevoked("revoked"), "new": principal(user)})
    registry = SocketRegistry(auth, recheck_s=3600, bus=bus)
    (revoked, revoked_ws), (kept, kept_ws) = socket_of(user, "old"), socket_of(user, "new")
    registry.add(revoked)
    registry.add(kept)
    await bus.publish(UserEvent(EventType.SESSION_REVOKED, user))
    await settle()
    assert revoked_ws.closed_with == (4401, "TOKEN_REVOKED")
    assert kept_ws.closed_with is None and not kept.closed
    await registry.aclose()


async def test_the_bus_subscription_goes_with_the_users_last_socket() -> None:
    bus, user = MemoryEventBus(), uuid4()
    registry = SocketRegistry(ScriptedAuthenticate({}), recheck_s=60, bus=bus)
    (first, _), (second, second_ws) = socket_of(user), socket_of(user)
    registry.add(first)
    registry.add(second)
    assert len(bus._fanout) == 1  # one subscription per user, not per socket
    registry.discard(first)
    assert len(bus._fanout) == 1
    registry.discard(second)
    assert len(bus._fanout) == 0
    await bus.publish(UserEvent(EventType.NOTIFICATION, user, {"notification": {}}))
    await settle()
    assert second_ws.sent == []
    await registry.aclose()
