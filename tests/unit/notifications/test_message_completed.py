"""A finished reply is announced as ``message.completed`` once it is stored, whatever ends it."""

from __future__ import annotations

import asyncio
from uuid import UUID

from adapters.memory.event_bus import MemoryEventBus
from adapters.system.tokenizer import EstimatingTokenizer
from application.chat.generation_runner import GenerationRunner
from application.chat.run_generation import RunGeneration
from application.chat.views import message_data
from application.ports.event_bus import EventType, UserEvent
from domain.messages import MessageStatus
from tests.unit.chat.fakes import FakeRouter, Script
from tests.unit.chat.world import ChatWorld, no_sleep


def announcing(world: ChatWorld) -> list[tuple[UserEvent, MessageStatus]]:
    """Rewire the world's generations to a bus; each event with the stored status it saw."""
    bus = MemoryEventBus()
    seen: list[tuple[UserEvent, MessageStatus]] = []

    def subscriber(event: UserEvent) -> None:
        stored = world.stored(_id(event))
        seen.append((event, stored.status))

    bus.subscribe(world.owner, subscriber)
    world.generate = RunGeneration(
        world.router, world.log, world.uow_factory, EstimatingTokenizer(), world.hooks,
        world.policy, sleep=no_sleep, events=bus,
    )  # fmt: skip
    world.runner = GenerationRunner(world.generate, world.uow_factory, world.clock, world.policy)
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
