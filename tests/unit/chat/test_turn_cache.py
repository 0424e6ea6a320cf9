"""The completion cache serves chat turns too: only opted-in, waiting, temperature-0 turns,
keyed by the user, the model and the full prompt; a replay calls nothing upstream, is
stored like any reply, and spends nothing."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from adapters.memory.response_cache import MemoryCache
from application.caching.completion_cache import CompletionCache
from application.chat.send_message import SendMessageCommand
from application.ports.metrics import NoMetrics
from domain.messages import MessageStatus
from tests.unit.chat.test_turn import RecordingSpending, command, send_message
from tests.unit.chat.world import ChatWorld

CACHED = {"wait": True, "temperature": 0.0, "cache": True}


def cached_world() -> ChatWorld:
    return ChatWorld(cache=CompletionCache(MemoryCache(), NoMetrics()))


async def test_the_same_full_prompt_is_replayed_without_calling_the_model() -> None:
    world = cached_world()
    spending = RecordingSpending()
    send = send_message(world, spending)
    first = await send(command(world, None, "Capital of France?", **CACHED))
    second = await send(command(world, None, "Capital of France?", **CACHED))
    assert (first.cached, second.cached) == (False, True)
    assert len(world.router.calls) == 1
    replay = world.stored(second.assistant_message.id)
    original = world.stored(first.assistant_message.id)
    assert replay.status is MessageStatus.COMPLETE and replay.content == original.content
    assert replay.usage == original.usage
    assert original.cost_usd > 0 and replay.cost_usd == Decimal(0)  # nothing was spent
    assert len(spending.settled) == 1 and spending.released == 1
    deltas = [e.data["content"] for e in await world.events(second) if e.kind == "delta"]
    assert "".join(deltas) == replay.content  # streamed text equals stored text
    assert second.response_s >= 0 and second.upstream_s == 0


async def test_a_different_prompt_user_or_temperature_goes_upstream() -> None:
    world = cached_world()
    conversation = await world.conversation()
    await world.send(conversation, "Capital of France?", **CACHED)
    # The same words later in the conversation: its history is part of the prompt.
    again = await world.send(conversation, "Capital of France?", **CACHED)
    stranger = uuid4()
    theirs = await world.conversation(owner=stranger)
    other = await world.send_message()(
        SendMessageCommand(stranger, theirs.id, "Capital of France?", **CACHED)  # type: ignore[arg-type]
    )
    warm = await world.send(
        await world.conversation(), "Capital of France?", wait=True, temperature=0.7, cache=True
    )
    assert not any(s.cached for s in (again, other, warm))
    assert len(world.router.calls) == 4


async def test_only_opted_in_waiting_turns_are_served() -> None:
    world = cached_world()
    await world.send(await world.conversation(), "hi", **CACHED)
    not_asked = await world.send(await world.conversation(), "hi", wait=True, temperature=0.0)
    streamed = await world.send(await world.conversation(), "hi", temperature=0.0, cache=True)
    await world.runner.shutdown(5)
    assert not not_asked.cached and not streamed.cached
    assert len(world.router.calls) == 3
