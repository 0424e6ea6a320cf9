"""The one chat turn: create-on-send in one transaction, the chat-send limit and the quota
through ports, a Generation that settles its reservation exactly once, and deltas written
to the log one round trip per burst."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from adapters.memory.generation_log import MemoryGenerationLog
from adapters.system.tokenizer import EstimatingTokenizer
from application.chat.send_message import SendMessage, SendMessageCommand
from application.llm.router import RoutedChunk
from application.ports.generation_log import (
    GenerationEvent,
    GenerationInfo,
    GenerationLogUnavailable,
)
from application.ports.llm import Chunk, ProviderUnavailable
from application.ports.rate_limiter import ChatSendLimit, RateDecision
from application.ports.spend_guard import SpendGuard, SpendRequest, SpendTicket
from application.ports.turn_hooks import FinishedTurn, PromptDraft, PromptStep, TurnListener
from application.ports.unit_of_work import UnitOfWork
from domain.context_window import ContextTooLong
from domain.errors import TooManyRequests
from domain.messages import MessageStatus
from tests.unit.chat.fakes import FakeRouter, RandomIds, Script
from tests.unit.chat.world import ChatWorld


class RecordingSpending(SpendGuard):
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.reserved: list[SpendRequest] = []
        self.settled: list[tuple[str, int, int]] = []
        self.released = 0

    async def reserve(self, request: SpendRequest, uow: UnitOfWork | None = None) -> SpendTicket:
        self.reserved.append(request)
        if self.refuse:
            raise TooManyRequests("quota used up")
        return SpendTicket(request.user_id, None, request.model.id, request.max_tokens)

    async def settle(
        self, ticket: SpendTicket, *, model_id: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        self.settled.append((model_id, prompt_tokens, completion_tokens))

    async def release(self, ticket: SpendTicket) -> None:
        self.released += 1


class CountingLimit(ChatSendLimit):
    def __init__(self, allow: int) -> None:
        self.allow = allow
        self.checked: list[UUID] = []

    async def check(self, user_id: UUID) -> RateDecision | None:
        self.checked.append(user_id)
        decision = RateDecision(len(self.checked) <= self.allow, self.allow, 0, 60.0, 60.0)
        decision.raise_if_denied("too many chat messages")
        return decision


def send_message(
    world: ChatWorld,
    spending: SpendGuard | None = None,
    limit: ChatSendLimit | None = None,
) -> SendMessage:
    extra: dict[str, object] = {}
    if spending is not None:
        extra["spending"] = spending
    if limit is not None:
        extra["chat_limit"] = limit
    return SendMessage(
        world.uow_factory, world.router, world.log, world.runner, EstimatingTokenizer(),
        world.clock, RandomIds(), world.policy, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def command(world: ChatWorld, conversation_id: UUID | None, content: str = "Hi", **kw: object):
    return SendMessageCommand(world.owner, conversation_id, content, **kw)  # type: ignore[arg-type]


async def test_a_turn_without_a_conversation_creates_one_with_both_messages() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("hello",))))
    sent = await send_message(world)(command(world, None, "Plan a trip", wait=True))
    assert sent.created
    stored = world.storage.conversations[sent.conversation.id]
    assert stored.owner_id == world.owner and stored.message_count == 2
    assert stored.title == "Plan a trip"
    assert [world.stored(m.id).position for m in (sent.user_message, sent.assistant_message)] == [
        0,
        1,
    ]
    assert world.stored(sent.assistant_message.id).content == "hello"


async def test_a_new_turn_that_cannot_fit_the_window_creates_nothing() -> None:
    # (A quota refusal rolls the same transaction back: tests/integration/chat.)
    world = ChatWorld(router=FakeRouter(specs=[_tiny_spec()]))
    with pytest.raises(ContextTooLong):
        await send_message(world)(command(world, None, "x" * 900))
    assert world.storage.conversations == {} and world.storage.messages == {}
    assert world.router.calls == []


async def test_every_send_counts_against_the_chat_limit_before_anything_is_stored() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    limit = CountingLimit(allow=1)
    use_case = send_message(world, limit=limit)
    sent = await use_case(command(world, conversation.id, wait=True))
    assert sent.rate is not None and sent.rate.limit == 1
    with pytest.raises(TooManyRequests):
        await use_case(command(world, None))
    assert limit.checked == [world.owner, world.owner]
    assert len(world.storage.conversations) == 1 and len(world.storage.messages) == 2
    assert len(world.router.calls) == 1


async def test_the_reservation_is_settled_once_with_the_stored_usage() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("a" * 30,))))
    spending = RecordingSpending()
    sent = await send_message(world, spending)(command(world, None, wait=True))
    await world.runner.shutdown(grace_s=1)
    usage = world.stored(sent.assistant_message.id).usage
    assert usage is not None
    assert spending.settled == [("m1", usage.prompt_tokens, usage.completion_tokens)]
    assert spending.released == 0 and spending.reserved[0].stream is False


async def test_a_failure_before_any_text_releases_the_reservation_once() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=(), error=ProviderUnavailable())))
    spending = RecordingSpending()
    sent = await send_message(world, spending)(command(world, None, wait=True))
    assert sent.assistant_message.status is MessageStatus.FAILED
    assert spending.settled == [] and spending.released == 1


async def test_a_failure_after_some_text_charges_the_domain_estimate_of_it() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("abcdef",), error=ProviderUnavailable())))
    spending = RecordingSpending()
    sent = await send_message(world, spending)(command(world, None, wait=True))
    assert sent.assistant_message.content == "abcdef"
    assert [(m, c) for m, _, c in spending.settled] == [("m1", 2)]  # 6 ASCII chars / 3


async def test_a_turn_refused_by_a_closing_runner_reserves_nothing() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    await world.runner.shutdown(grace_s=0)
    spending = RecordingSpending()
    with pytest.raises(Exception, match="shutting down"):
        await send_message(world, spending)(command(world, conversation.id))
    assert spending.reserved == [] and world.storage.messages == {}


class CountingLog(MemoryGenerationLog):
    """Counts round trips: one per ``append_many`` (a delta batch) or plain ``append``."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    async def append_many(self, generation_id: UUID, events: list[GenerationEvent]) -> list[str]:
        self.batches.append(len(events))
        await asyncio.sleep(0.01)  # a round trip: deltas keep arriving meanwhile
        return [await super(CountingLog, self).append(generation_id, e) for e in events]


async def test_deltas_of_a_fast_stream_share_round_trips_and_keep_their_order() -> None:
    pieces = tuple(f"p{i} " for i in range(40))
    log = CountingLog()
    world = ChatWorld(router=FakeRouter(Script(pieces=pieces)), log=log)
    sent = await world.send(await world.conversation(), wait=True)
    events = await world.events(sent)
    deltas = [e.data["content"] for e in events if e.kind == "delta"]
    assert deltas == list(pieces)
    assert world.stored(sent.assistant_message.id).content == "".join(pieces)
    assert sum(log.batches) == len(pieces) and len(log.batches) < len(pieces) / 4
    assert events[-1].kind == "done" and [e.id for e in events] == [
        str(i) for i in range(1, len(events) + 1)
    ]


class WritesLog(MemoryGenerationLog):
    """Records each write to the log (one round trip on a shared log) as its event kinds."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[list[str]] = []

    async def open(self, info: GenerationInfo, first: GenerationEvent) -> str:
        self.writes.append([first.kind])
        await self.begin(info)
        return await super().append(info.generation_id, first)

    async def append(self, generation_id: UUID, event: GenerationEvent) -> str:
        self.writes.append([event.kind])
        return await super().append(generation_id, event)

    async def append_many(self, generation_id: UUID, events: list[GenerationEvent]) -> list[str]:
        self.writes.append([e.kind for e in events])
        return [await super(WritesLog, self).append(generation_id, e) for e in events]


class WholeReplyRouter(FakeRouter):
    """A model whose whole reply is there at once: no wait between its chunks."""

    async def stream(self, *args: object, **kwargs: object) -> AsyncIterator[RoutedChunk]:  # type: ignore[override]
        for piece in ("Hel", "lo", "!"):
            yield RoutedChunk(Chunk(delta=piece), "m1")
        yield RoutedChunk(Chunk(finish_reason="stop"), "m1")


async def test_a_reply_that_came_whole_is_logged_with_its_terminal_event_in_one_write() -> None:
    log = WritesLog()
    world = ChatWorld(router=WholeReplyRouter(), log=log)
    sent = await world.send(await world.conversation(), wait=True)
    events = await world.events(sent)
    assert [e.kind for e in events] == ["start", "delta", "delta", "delta", "done"]
    assert "".join(e.data["content"] for e in events if e.kind == "delta") == "Hello!"
    assert world.stored(sent.assistant_message.id).content == "Hello!"
    assert [e.id for e in events] == ["1", "2", "3", "4", "5"]
    assert log.writes == [["start"], ["delta", "delta", "delta", "done"]]


async def test_a_reply_that_came_whole_runs_in_its_generations_task_alone() -> None:
    made: list[str] = []
    loop = asyncio.get_running_loop()

    def factory(loop: asyncio.AbstractEventLoop, coro: object, **kwargs: object) -> asyncio.Task:  # type: ignore[type-arg]
        made.append(getattr(coro, "__qualname__", type(coro).__name__))
        return asyncio.Task(coro, loop=loop, **kwargs)  # type: ignore[arg-type]

    world = ChatWorld(router=WholeReplyRouter(), log=WritesLog())
    conversation = await world.conversation()
    loop.set_task_factory(factory)  # type: ignore[arg-type]
    try:
        sent = await world.send(conversation, wait=True)
    finally:
        loop.set_task_factory(None)
    assert world.stored(sent.assistant_message.id).content == "Hello!"
    # No cancel watcher, delta writer or upstream reader of its own: nothing could cancel
    # it, and its deltas go with the terminal event.
    assert [name for name in made if name != "GenerationRunner._maintain"] == ["Generation._run"]


async def test_a_slow_streams_deltas_are_written_one_by_one_as_they_come() -> None:
    gate = asyncio.Event()
    log = CountingLog()
    world = ChatWorld(router=FakeRouter(Script(pieces=("a", "b", "c"), gate=gate)), log=log)
    sent = await world.send(await world.conversation())
    for _ in range(2):
        await asyncio.sleep(0.05)  # longer than a round trip: nothing waits to be batched
        gate.set()
    await world.events(sent)
    assert log.batches == [1, 1, 1]


async def test_a_log_that_breaks_mid_burst_still_stores_every_delta() -> None:
    class BreakingLog(MemoryGenerationLog):
        async def append_many(self, generation_id, events):  # type: ignore[override]
            raise GenerationLogUnavailable("down")

    world = ChatWorld(router=FakeRouter(Script(pieces=("one ", "two"))), log=BreakingLog())
    sent = await world.send(await world.conversation(), wait=True)
    assert world.stored(sent.assistant_message.id).content == "one two"
    done = (await world.log.snapshot(sent.generation_id))[-1]
    assert done.kind == "done" and done.data["message"]["content"] == "one two"


class QuoteStep(PromptStep):
    async def before_prompt(self, draft: PromptDraft) -> PromptDraft:
        from dataclasses import replace

        from application.ports.llm import ChatMessage

        quoted = ChatMessage("system", "context: the sky is green")
        return replace(draft, prompt=(quoted, *draft.prompt))


class BrokenStep(PromptStep):
    async def before_prompt(self, draft: PromptDraft) -> PromptDraft:
        raise RuntimeError("source down")


class Recorder(TurnListener):
    def __init__(self) -> None:
        self.turns: list[FinishedTurn] = []

    async def turn_finished(self, turn: FinishedTurn) -> None:
        self.turns.append(turn)
        raise RuntimeError("a listener's failure is logged, never the reply's")


async def test_prompt_steps_run_before_the_upstream_call_and_listeners_after_the_store() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("ok",)), Script(pieces=("again",))))
    recorder = Recorder()
    world.use_seams(steps=(BrokenStep(), QuoteStep()), listeners=(recorder,))
    conversation = await world.conversation()
    first = await world.send(conversation, "one", wait=True)
    await world.send(conversation, "two", wait=True)
    await world.runner.shutdown(grace_s=1)
    _, prompt, _ = world.router.calls[0]
    assert [m.content for m in prompt] == ["context: the sky is green", "one"]
    assert [t.first_exchange for t in recorder.turns] == [True, False]
    assert recorder.turns[0].reply.id == first.assistant_message.id
    assert recorder.turns[0].reply.status is MessageStatus.COMPLETE


def _tiny_spec():
    from domain.catalog import ModelSpec

    return ModelSpec("m1", "p", "m1-up", context_window=200, max_output_tokens=50)
