"""Redis pub/sub event bus: one channel per event type, routing by user inside the process.

Every instance subscribes to the few type channels once (not one channel per user, which
would cost a SUBSCRIBE per socket and grow Redis's channel table with the user count) and
hands each event to the local subscribers of its user. The listener owns its reconnects: a
Redis restart or a dropped connection ends in a fresh connection and the same
subscriptions, with backoff, for as long as the process lives. Pushes published while it is
away are lost, by design: what matters is stored first.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from application.events.fanout import LocalFanout
from application.health.readiness import ComponentHealth, HealthProbe
from application.ports.event_bus import (
    EventBus,
    EventBusUnavailable,
    EventType,
    Subscriber,
    Subscription,
    UserEvent,
)

log = structlog.get_logger("parley.events")

_MIN_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 2.0
_POLL_S = 1.0


class _Wire(msgspec.Struct):
    u: str
    d: dict[str, Any]


_ENCODE = msgspec.json.Encoder().encode
_DECODE = msgspec.json.Decoder(_Wire).decode


class RedisEventBus(EventBus):
    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._channels = {kind: f"{key_prefix}events:{kind.value}".encode() for kind in EventType}
        self._types = {channel: kind for kind, channel in self._channels.items()}
        self._fanout = LocalFanout()
        self._listener: asyncio.Task[None] | None = None
        self._closed = False
        self.listening = asyncio.Event()
        """Set while subscribed (cleared while reconnecting): for health and tests."""

    async def publish(self, event: UserEvent) -> None:
        payload = _ENCODE(_Wire(str(event.user_id), event.data))
        try:
            await self._redis.publish(self._channels[event.type], payload)
        except (RedisError, OSError) as exc:
            raise EventBusUnavailable("cannot push the event right now") from exc

    def subscribe(self, user_id: UUID, subscriber: Subscriber) -> Subscription:
        self.start()
        return self._fanout.add(str(user_id), subscriber)

    @property
    def started(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        """Start listening (idempotent; subscribing does it too)."""
        if self._closed or (self._listener is not None and not self._listener.done()):
            return
        self._listener = asyncio.create_task(self._listen_forever(), name="event-bus-listener")

    async def aclose(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def _listen_forever(self) -> None:
        backoff = _MIN_BACKOFF_S
        while not self._closed:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._channels.values())
                self.listening.set()
                if backoff > _MIN_BACKOFF_S:
                    log.info("event_bus_resubscribed")
                backoff = _MIN_BACKOFF_S
                await self._read(pubsub)
            except (RedisError, OSError) as exc:
                if self.listening.is_set() or backoff == _MIN_BACKOFF_S:
                    log.warning("event_bus_disconnected", error=type(exc).__name__)
                self.listening.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
            finally:
                self.listening.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read(self, pubsub: PubSub) -> None:
        while not self._closed:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL_S)
            if message is None or message.get("type") != "message":
                continue
            kind = self._types.get(message["channel"])
            if kind is None:
                continue
            try:
                wire = _DECODE(message["data"])
                event = UserEvent(kind, UUID(wire.u), wire.d)
            except (msgspec.DecodeError, ValueError):
                log.warning("event_bus_malformed_event", channel=message["channel"][-40:])
                continue
            self._fanout.deliver(wire.u, event)


class EventBusProbe(HealthProbe):
    """``events`` in /health/ready: down while the listener is reconnecting (pushes to this
    instance's sockets are being lost; nothing stored is)."""

    name = "events"
    critical = False

    def __init__(self, bus: RedisEventBus) -> None:
        self._bus = bus

    async def check(self) -> ComponentHealth:
        if not self._bus.started:
            return ComponentHealth("ok", 0.0, "redis pub/sub (no socket has subscribed yet)")
        if self._bus.listening.is_set():
            return ComponentHealth("ok", 0.0, "redis pub/sub")
        return ComponentHealth("down", 0.0, "redis pub/sub reconnecting; pushes are paused")
