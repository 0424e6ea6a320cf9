"""One contract for both event buses: in-process fan-out and Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from adapters.memory.event_bus import MemoryEventBus
from adapters.redis.client import create_redis
from adapters.redis.event_bus import EventBusProbe, RedisEventBus
from application.ports.event_bus import EventBus, EventBusUnavailable, EventType, UserEvent
from tests.integration.identity_stores import KINDS, UNREACHABLE_REDIS
from tests.integration.usage.private_redis import private_redis
from tests.support.backends import REDIS_URL, require_servers

WAIT_S = 10.0


class Inbox:
    """A subscriber that keeps what it got, for tests to await."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[UserEvent] = asyncio.Queue()

    def __call__(self, event: UserEvent) -> None:
        self.events.put_nowait(event)

    async def next(self) -> UserEvent:
        return await asyncio.wait_for(self.events.get(), WAIT_S)


@asynccontextmanager
async def redis_bus(url: str, prefix: str) -> AsyncIterator[RedisEventBus]:
    client = create_redis(url, 1.0)
    bus = RedisEventBus(client, prefix)
    try:
        yield bus
    finally:
        await bus.aclose()
        await client.aclose()


@asynccontextmanager
async def event_bus(kind: str) -> AsyncIterator[EventBus]:
    if kind == "memory":
        yield MemoryEventBus()
        return
    require_servers()
    async with redis_bus(REDIS_URL, f"parley-contract-{uuid.uuid4().hex[:12]}:") as bus:
        yield bus


async def listening(bus: EventBus) -> None:
    """Redis delivers only once the subscription is in place; memory at once."""
    if isinstance(bus, RedisEventBus):
        bus.start()
        await asyncio.wait_for(bus.listening.wait(), WAIT_S)


@pytest.fixture(params=KINDS)
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    async with event_bus(request.param) as made:
        yield made


def event(kind: EventType, user: uuid.UUID, **data: object) -> UserEvent:
    return UserEvent(kind, user, dict(data))


async def test_a_subscriber_gets_its_users_events_of_every_type_with_their_data(
    bus: EventBus,
) -> None:
    user, inbox = uuid.uuid4(), Inbox()
    bus.subscribe(user, inbox)
    await listening(bus)
    for kind in EventType:
        await bus.publish(event(kind, user, label=kind.value, nested={"n": [1, 2]}))
    got = [await inbox.next() for _ in EventType]
    assert [e.type for e in got] == list(EventType)
    assert all(e.user_id == user for e in got)
    assert got[0].data == {"label": "notification", "nested": {"n": [1, 2]}}


async def test_events_reach_only_the_subscribers_of_their_user(bus: EventBus) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    alice_inbox, bob_inbox = Inbox(), Inbox()
    bus.subscribe(alice, alice_inbox)
    bus.subscribe(bob, bob_inbox)
    await listening(bus)
    await bus.publish(event(EventType.NOTIFICATION, alice, n=1))
    await bus.publish(event(EventType.NOTIFICATION, bob, n=2))
    assert (await bob_inbox.next()).data == {"n": 2}
    assert (await alice_inbox.next()).data == {"n": 1}
    assert alice_inbox.events.empty() and bob_inbox.events.empty()


async def test_every_subscriber_of_a_user_gets_the_event(bus: EventBus) -> None:
    user = uuid.uuid4()
    inboxes = [Inbox() for _ in range(3)]
    for inbox in inboxes:
        bus.subscribe(user, inbox)
    await listening(bus)
    await bus.publish(event(EventType.MESSAGE_COMPLETED, user, message={"id": "m"}))
    for inbox in inboxes:
        assert (await inbox.next()).data == {"message": {"id": "m"}}


async def test_a_cancelled_subscription_gets_nothing_more(bus: EventBus) -> None:
    user, gone, kept = uuid.uuid4(), Inbox(), Inbox()
    subscription = bus.subscribe(user, gone)
    bus.subscribe(user, kept)
    await listening(bus)
    subscription.cancel()
    subscription.cancel()  # idempotent
    await bus.publish(event(EventType.JOB_UPDATED, user, n=1))
    assert (await kept.next()).data == {"n": 1}
    assert gone.events.empty()


async def test_a_failing_subscriber_does_not_keep_the_event_from_the_others(
    bus: EventBus,
) -> None:
    user, inbox = uuid.uuid4(), Inbox()

    def broken(_: UserEvent) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(user, broken)
    bus.subscribe(user, inbox)
    await listening(bus)
    await bus.publish(event(EventType.SESSION_REVOKED, user))
    await bus.publish(event(EventType.SESSION_REVOKED, user, again=True))
    assert (await inbox.next()).data == {}
    assert (await inbox.next()).data == {"again": True}


async def test_redis_events_cross_instances_sharing_one_redis() -> None:
    require_servers()
    prefix = f"parley-contract-{uuid.uuid4().hex[:12]}:"
    async with redis_bus(REDIS_URL, prefix) as a, redis_bus(REDIS_URL, prefix) as b:
        user, on_a, on_b = uuid.uuid4(), Inbox(), Inbox()
        a.subscribe(user, on_a)
        b.subscribe(user, on_b)
        await listening(a)
        await listening(b)
        await a.publish(event(EventType.NOTIFICATION, user, n=1))
        assert (await on_a.next()).data == {"n": 1}
        assert (await on_b.next()).data == {"n": 1}


async def test_redis_subscriptions_come_back_by_themselves_after_a_redis_restart(
    tmp_path: Path,
) -> None:
    with private_redis(tmp_path) as redis:
        async with redis_bus(redis.url, "restart:") as bus:
            user, inbox = uuid.uuid4(), Inbox()
            bus.subscribe(user, inbox)
            await listening(bus)
            await bus.publish(event(EventType.NOTIFICATION, user, n="before"))
            assert (await inbox.next()).data == {"n": "before"}

            probe = EventBusProbe(bus)
            assert (await probe.check()).status == "ok"

            redis.stop()
            with pytest.raises(EventBusUnavailable):
                await bus.publish(event(EventType.NOTIFICATION, user, n="lost"))
            assert await probe_reaches(probe, "down")
            redis.start()

            # Nothing to resubscribe by hand: publish until the listener is back.
            delivered = await eventually(lambda: publish_quietly(bus, user), inbox)
            assert delivered.data == {"n": "after"}
            assert (await probe.check()).status == "ok"


async def probe_reaches(probe: EventBusProbe, status: str) -> bool:
    for _ in range(int(WAIT_S / 0.05)):
        if (await probe.check()).status == status:
            return True
        await asyncio.sleep(0.05)
    return False


async def publish_quietly(bus: EventBus, user: uuid.UUID) -> None:
    # The publishing connection may still be reconnecting.
    with contextlib.suppress(EventBusUnavailable):
        await bus.publish(event(EventType.NOTIFICATION, user, n="after"))


async def eventually(publish: Callable[[], object], inbox: Inbox) -> UserEvent:
    for _ in range(int(WAIT_S / 0.1)):
        await publish()  # type: ignore[misc]
        try:
            return await asyncio.wait_for(inbox.events.get(), 0.1)
        except TimeoutError:
            continue
    raise AssertionError("the subscription never came back")


async def test_publishing_without_redis_is_reported_unavailable() -> None:
    async with redis_bus(UNREACHABLE_REDIS, "nowhere:") as bus:
        with pytest.raises(EventBusUnavailable):
            await bus.publish(event(EventType.NOTIFICATION, uuid.uuid4()))
