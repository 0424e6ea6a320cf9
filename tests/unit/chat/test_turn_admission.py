"""TurnAdmission: a burst of turns queues to be stored, bounded in length and in wait."""

from __future__ import annotations

import asyncio

import pytest

from adapters.system.tokenizer import EstimatingTokenizer
from application.admission import ServerBusy, TurnAdmission
from application.chat.send_message import SendMessage, SendMessageCommand
from tests.unit.chat.fakes import RandomIds
from tests.unit.chat.world import ChatWorld


async def hold(admission: TurnAdmission, entered: list[int], n: int, gate: asyncio.Event) -> None:
    async with admission.slot():
        entered.append(n)
        await gate.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_past_the_active_bound_turns_wait_and_enter_in_arrival_order() -> None:
    admission = TurnAdmission(max_active=2, max_waiting=10, max_wait_s=60)
    entered: list[int] = []
    gates = [asyncio.Event() for _ in range(5)]
    tasks = [asyncio.create_task(hold(admission, entered, n, gates[n])) for n in range(5)]
    await settle()
    assert entered == [0, 1]
    assert admission.waiting == 3
    gates[1].set()
    await settle()
    assert entered == [0, 1, 2]
    gates[0].set()
    await settle()
    assert entered == [0, 1, 2, 3]
    for gate in gates:
        gate.set()
    await asyncio.gather(*tasks)
    assert entered == [0, 1, 2, 3, 4]
    assert admission.waiting == 0


async def test_a_full_queue_refuses_at_once_with_server_busy() -> None:
    admission = TurnAdmission(max_active=1, max_waiting=1, max_wait_s=60)
    gate = asyncio.Event()
    entered: list[int] = []
    holder = asyncio.create_task(hold(admission, entered, 0, gate))
    queued = asyncio.create_task(hold(admission, entered, 1, gate))
    await settle()
    with pytest.raises(ServerBusy) as refused:
        async with admission.slot():
            pytest.fail("entered past a full queue")
    assert refused.value.code == "SERVER_BUSY"
    gate.set()
    await asyncio.gather(holder, queued)
    assert entered == [0, 1]


async def test_a_wait_past_its_bound_is_refused_and_gives_its_place_up() -> None:
    admission = TurnAdmission(max_active=1, max_waiting=5, max_wait_s=0.05)
    gate = asyncio.Event()
    entered: list[int] = []
    holder = asyncio.create_task(hold(admission, entered, 0, gate))
    await settle()
    with pytest.raises(ServerBusy):
        async with admission.slot():
            pytest.fail("entered while the only slot was held")
    assert admission.waiting == 0
    gate.set()
    await holder
    async with admission.slot():  # the slot came back: nothing leaked
        pass


async def test_a_cancelled_wait_leaks_no_slot() -> None:
    admission = TurnAdmission(max_active=1, max_waiting=5, max_wait_s=60)
    gate = asyncio.Event()
    entered: list[int] = []
    holder = asyncio.create_task(hold(admission, entered, 0, gate))
    await settle()
    waiter = asyncio.create_task(hold(admission, entered, 1, gate))
    await settle()
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert admission.waiting == 0
    gate.set()
    await holder
    gate2 = asyncio.Event()
    again = [asyncio.create_task(hold(admission, entered, n, gate2)) for n in (2, 3)]
    await settle()
    assert entered == [0, 2]  # one slot, not two: the cancelled wait returned nothing extra
    gate2.set()
    await asyncio.gather(*again)


async def test_a_refused_turn_stores_nothing() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    admission = TurnAdmission(max_active=1, max_waiting=0, max_wait_s=60)
    send = SendMessage(
        world.uow_factory, world.router, world.log, world.runner, EstimatingTokenizer(),
        world.clock, RandomIds(), world.policy, admission=admission,
    )  # fmt: skip
    stored_before = len(world.storage.messages)
    async with admission.slot():  # storage is saturated by another turn
        with pytest.raises(ServerBusy):
            await send(SendMessageCommand(world.owner, conversation.id, "Hi"))
    assert len(world.storage.messages) == stored_before
    sent = await send(SendMessageCommand(world.owner, conversation.id, "Hi"))
    assert world.stored(sent.user_message.id).content == "Hi"
    await world.events(sent)
