"""How a generation ends: completed, cancelled, failed, interrupted, or orphaned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.memory.generation_log import MemoryGenerationLog
from application.chat.policy import ChatPolicy
from application.ports.generation_log import (
    GenerationEvent,
    GenerationInfo,
    GenerationLogUnavailable,
)
from application.ports.llm import ProviderTimeout, ProviderUnavailable
from domain.errors import Unavailable
from domain.messages import INTERRUPTED, GenerationNotFound, MessageStatus, pending_reply
from tests.unit.chat.fakes import FakeRouter, Script
from tests.unit.chat.world import ChatWorld


async def read_until(world: ChatWorld, sent, count: int) -> list[GenerationEvent]:
    """Read the first ``count`` events, then walk away (like a client disconnecting)."""
    seen: list[GenerationEvent] = []
    async for event in world.log.read(sent.generation_id):
        seen.append(event)
        if len(seen) == count:
            break
    return seen


async def test_cancel_stores_the_partial_text_as_cancelled() -> None:
    gate = asyncio.Event()
    world = ChatWorld(router=FakeRouter(Script(pieces=("one ", "two ", "three"), gate=gate)))
    conversation = await world.conversation()
    sent = await world.send(conversation)
    await read_until(world, sent, 2)  # start + "one "
    await world.cancel()(world.owner, conversation.id, sent.generation_id)
    events = await world.events(sent)
    reply = world.stored(sent.assistant_message.id)
    assert reply.status is MessageStatus.CANCELLED
    assert reply.content == "one "
    assert events[-1].kind == "done" and events[-1].data["message"]["status"] == "cancelled"
    assert "".join(e.data.get("content", "") for e in events if e.kind == "delta") == "one "


async def test_a_cancel_from_another_instance_arrives_through_the_log() -> None:
    gate = asyncio.Event()
    world = ChatWorld(router=FakeRouter(Script(pieces=("a", "b"), gate=gate)))
    sent = await world.send(await world.conversation())
    await read_until(world, sent, 2)
    await world.log.request_cancel(sent.generation_id)  # not via this process's runner
    await world.events(sent)
    assert world.stored(sent.assistant_message.id).status is MessageStatus.CANCELLED


async def test_a_provider_failure_stores_failed_with_its_code_and_ends_with_error() -> None:
    world = ChatWorld(
        router=FakeRouter(Script(pieces=("par", "tial"), error=ProviderTimeout("slow")))
    )
    sent = await world.send(await world.conversation())
    events = await world.events(sent)
    reply = world.stored(sent.assistant_message.id)
    assert (reply.status, reply.error_code, reply.content) == (
        MessageStatus.FAILED,
        "PROVIDER_TIMEOUT",
        "partial",
    )
    assert events[-1].kind == "error"
    assert events[-1].data["code"] == "PROVIDER_TIMEOUT"
    assert events[-1].data["kind"] == "UpstreamTimeout"


async def test_an_unexpected_crash_is_stored_as_failed_without_details() -> None:
    world = ChatWorld(router=FakeRouter(Script(error=RuntimeError("secret=hunter2"))))  # type: ignore[arg-type]
    sent = await world.send(await world.conversation())
    events = await world.events(sent)
    assert world.stored(sent.assistant_message.id).error_code == "INTERNAL_ERROR"
    assert "hunter2" not in str(events[-1].data)


async def test_a_reader_that_leaves_does_not_stop_the_generation() -> None:
    gate = asyncio.Event()
    world = ChatWorld(router=FakeRouter(Script(pieces=("a", "b", "c"), gate=gate)))
    sent = await world.send(await world.conversation())
    await read_until(world, sent, 2)  # the client disconnects here
    for _ in range(2):
        gate.set()
        await asyncio.sleep(0.01)
    resumed = await world.events(sent, after="2")
    assert [e.data.get("content") for e in resumed if e.kind == "delta"] == ["b", "c"]
    assert world.stored(sent.assistant_message.id).content == "abc"


async def test_shutdown_stores_unfinished_replies_as_interrupted() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("never", "more"), gate=asyncio.Event())))
    sent = await world.send(await world.conversation())
    await read_until(world, sent, 2)
    await world.runner.shutdown(grace_s=0.05)
    reply = world.stored(sent.assistant_message.id)
    assert (reply.status, reply.error_code, reply.content) == (
        MessageStatus.FAILED,
        INTERRUPTED,
        "never",
    )
    assert (await world.events(sent))[-1].data["code"] == INTERRUPTED


async def test_shutdown_lets_generations_that_finish_within_the_grace_period_complete() -> None:
    gate = asyncio.Event()
    world = ChatWorld(router=FakeRouter(Script(pieces=("a", "b"), gate=gate)))
    sent = await world.send(await world.conversation())
    await read_until(world, sent, 2)
    asyncio.get_running_loop().call_later(0.05, gate.set)
    await world.runner.shutdown(grace_s=5)
    assert world.stored(sent.assistant_message.id).status is MessageStatus.COMPLETE


async def test_after_shutdown_no_new_message_is_accepted() -> None:
    from application.chat.generation_runner import ShuttingDown

    world = ChatWorld()
    conversation = await world.conversation()
    await world.runner.shutdown(grace_s=0)
    with pytest.raises(ShuttingDown):
        await world.send(conversation)
    assert world.storage.messages == {}


async def test_a_broken_log_still_stores_the_whole_reply() -> None:
    class BrokenLog(MemoryGenerationLog):
        async def append(self, generation_id, event):  # type: ignore[override]
            raise GenerationLogUnavailable("down")

    world = ChatWorld(router=FakeRouter(Script(pieces=("still ", "here"))), log=BrokenLog())
    sent = await world.send(await world.conversation(), wait=True)
    assert sent.start_event_id is None
    assert world.stored(sent.assistant_message.id).content == "still here"


async def test_orphaned_replies_become_interrupted_with_the_text_their_log_holds() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    orphan = pending_reply(
        id=uuid4(),
        conversation_id=conversation.id,
        model="m1",
        generation_id=uuid4(),
        now=world.clock.now(),
        position=1,
    )
    lapsed = world.clock.now() - timedelta(seconds=1)
    await world.uow().messages.add(orphan, lease_until=lapsed)
    gid = orphan.generation_id
    await world.log.begin(GenerationInfo(gid, world.owner, conversation.id, orphan.id))
    await world.log.append(gid, GenerationEvent("delta", {"content": "half a "}))
    assert await world.recover()() == 1
    stored = world.stored(orphan.id)
    assert (stored.status, stored.error_code, stored.content) == (
        MessageStatus.FAILED,
        INTERRUPTED,
        "half a ",
    )
    assert (await world.log.snapshot(gid))[-1].kind == "error"  # waiting readers are released
    assert await world.recover()() == 0


async def test_running_replies_are_not_mistaken_for_orphans() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("a", "b"), gate=asyncio.Event())))
    sent = await world.send(await world.conversation())
    assert await world.recover()() == 0
    assert world.stored(sent.assistant_message.id).status is MessageStatus.STREAMING
    await world.runner.shutdown(grace_s=0)


class LogThatOpensLate(MemoryGenerationLog):
    """Opening a reply's log waits until told: a busy loop between a turn's write and its
    generation's start."""

    def __init__(self) -> None:
        super().__init__()
        self.opening = asyncio.Event()
        self.release = asyncio.Event()

    async def open(self, info: GenerationInfo, first: GenerationEvent) -> str:
        self.opening.set()
        await self.release.wait()
        return await super().open(info, first)


async def test_a_reply_stored_but_not_yet_started_is_not_mistaken_for_an_orphan() -> None:
    log = LogThatOpensLate()
    world = ChatWorld(log=log, policy=ChatPolicy(max_message_chars=1000, lease_s=0.3))
    sweeps: list[int] = []
    recover = world.recover()

    async def sweep(*, act: bool = True) -> int:
        sweeps.append(await recover(act=act))
        return sweeps[-1]

    world.runner.keep_sweeping(sweep)
    turn = asyncio.create_task(world.send(await world.conversation(), wait=True))
    await asyncio.wait_for(log.opening.wait(), 5)
    world.clock.advance(60)  # the written lease has long lapsed by the clock
    start = len(sweeps)
    for _ in range(500):
        if len(sweeps) >= start + 2:
            break
        await asyncio.sleep(0.01)
    assert len(sweeps) >= start + 2, "the sweep never ran"
    assert sum(sweeps) == 0
    log.release.set()
    sent = await asyncio.wait_for(turn, 5)
    assert sent.assistant_message.status is MessageStatus.COMPLETE
    assert world.stored(sent.assistant_message.id).status is MessageStatus.COMPLETE
    await world.runner.shutdown(grace_s=0)


async def test_another_users_generation_cannot_be_resumed_or_cancelled() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    sent = await world.send(conversation, wait=True)
    intruder = ChatWorld(log=world.log, owner=uuid4())
    with pytest.raises(GenerationNotFound):
        await intruder.events(sent)
    with pytest.raises(GenerationNotFound):
        await intruder.cancel()(intruder.owner, conversation.id, sent.generation_id)


async def test_a_generation_is_only_found_under_its_own_conversation() -> None:
    world = ChatWorld()
    sent = await world.send(await world.conversation(), wait=True)
    other = await world.conversation()
    with pytest.raises(GenerationNotFound):
        await world.cancel()(world.owner, other.id, sent.generation_id)


async def test_provider_unavailable_reply_is_failed_not_stuck() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=(), error=ProviderUnavailable())))
    sent = await world.send(await world.conversation(), wait=True)
    assert sent.assistant_message.status is MessageStatus.FAILED
    assert sent.assistant_message.error_code == "PROVIDER_UNAVAILABLE"


async def test_a_probe_counts_orphans_without_finishing_them() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    orphan = pending_reply(
        id=uuid4(), conversation_id=conversation.id, model="m1", generation_id=uuid4(),
        now=world.clock.now(), position=1,
    )  # fmt: skip
    await world.uow().messages.add(orphan, lease_until=world.clock.now() - timedelta(seconds=1))
    assert await world.recover()(act=False) == 1
    assert world.stored(orphan.id).status is MessageStatus.STREAMING
    assert await world.recover()() == 1


async def test_after_a_database_failure_no_orphan_is_finished_for_a_whole_lease() -> None:
    """Leases lapse during an outage; live runners renew theirs once it is back."""
    world = ChatWorld(policy=ChatPolicy(max_message_chars=1000, lease_s=0.6))
    calls: list[tuple[bool, bool]] = []  # (acted, failed)
    failing = [False]

    async def sweep(*, act: bool = True) -> int:
        calls.append((act, failing[0]))
        if failing[0]:
            raise Unavailable("the database is down")
        return 0

    async def until(predicate: Callable[[], bool]) -> None:
        for _ in range(500):
            if predicate():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never happened: {calls}")

    world.runner.keep_sweeping(sweep)
    await until(lambda: len(calls) >= 1)
    assert calls[0] == (True, False)  # healthy: sweeps act
    failing[0] = True
    await until(lambda: calls[-1][1])
    failing[0] = False
    back = len(calls)
    await until(lambda: any(acted for acted, _ in calls[back:]))
    await world.runner.shutdown(grace_s=0)
    after = [acted for acted, _ in calls[back:]]
    assert after[0] is False  # the first answer after a failure is only a probe
    assert after[-1] is True  # acting again once the database answered for a lease
