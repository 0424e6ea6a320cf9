"""A finished reply is announced as ``message.completed`` once it is stored, whatever ends it."""

from __future__ import annotations

import asyncio
from uuid import UUID

from adapters.memory.event_bus import MemoryEventBus
from application.chat.views import message_data
from application.events.message_completed import MessageCompletedListener
from application.ports.event_bus import EventType, UserEvent
from application.ports.turn_hooks import FinishedTurn
from domain.messages import MessageStatus
from tests.unit.chat.fakes import FakeRouter, Script
from tests.unit.chat.world import ChatWorld


def announcing(world: ChatWorld) -> list[tuple[UserEvent, MessageStatus]]:
    """Rewire the world's generations to a bus; each event with the stored status it saw."""
    bus = MemoryEventBus()
    seen: list[tuple[UserEvent, MessageStatus]] = []

    def subscriber(event: UserEvent) -> None:
        stored = world.stored(_id(event))
        seen.append((event, stored.status))

    bus.subscribe(world.owner, subscriber)
    world.use_seams(listeners=(MessageCompletedListener(bus),))
    return seen


def _id(event: UserEvent) -> UUID:
    return UUID(event.data["message"]["id"])


async def test_the_stored_reply_is_announced_once_after_it_is_stored() -> None:
    world = ChatWorld()
    seen = announcing(world)
    conversation = await world.conversation()
    sent = await world.send(conversation, "Hello", wait=True)
    [(event, status_then)] = seen
    assert event.type is EventType.MESSAGE_COMPLETED and event.user_id == world.owner
    assert status_then is MessageStatus.COMPLETE  # stored before it was pushed
    assert event.data == {"message": message_data(world.stored(sent.assistant_message.id))}


async def test_a_cancelled_reply_is_announced_with_its_partial_text() -> None:
    gate = asyncio.Event()
    world = ChatWorld(router=FakeRouter(Script(pieces=("one ", "two ", "three"), gate=gate)))
    seen = announcing(world)
    conversation = await world.conversation()
    sent = await world.send(conversation)
    await world.cancel()(world.owner, conversation.id, sent.generation_id)
    gate.set()
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.01)
    [(event, status_then)] = seen
    assert status_then is MessageStatus.CANCELLED
    assert event.data["message"]["status"] == "cancelled"


async def test_a_reply_the_database_never_took_is_not_announced() -> None:
    world = ChatWorld()
    bus = MemoryEventBus()
    seen: list[UserEvent] = []
    bus.subscribe(world.owner, seen.append)
    conversation = await world.conversation()
    sent = await world.send(conversation, "Hello", wait=True)
    stored = world.stored(sent.assistant_message.id)
    listener = MessageCompletedListener(bus)
    await listener.turn_finished(
        FinishedTurn(world.owner, conversation.id, sent.user_message, stored, stored=False)
    )
    assert seen == []
    await listener.turn_finished(
        FinishedTurn(world.owner, conversation.id, sent.user_message, stored)
    )
    assert [e.type for e in seen] == [EventType.MESSAGE_COMPLETED]
