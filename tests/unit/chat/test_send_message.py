"""SendMessage: the one path every transport uses to start a reply."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.chat.policy import ChatPolicy
from application.ports.llm import Usage
from domain.catalog import ModelNotFound
from domain.context_window import ContextTooLong
from domain.conversations import ConversationNotFound
from domain.messages import MessageStatus, MessageTooLong, Role
from tests.unit.chat.fakes import FakeRouter, Script
from tests.unit.chat.world import ChatWorld


async def test_it_stores_the_user_message_and_a_streaming_reply_before_generating() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("a", "b"))))
    conversation = await world.conversation()
    sent = await world.send(conversation, "Hello there")
    assert world.stored(sent.user_message.id).content == "Hello there"
    assert sent.assistant_message.status is MessageStatus.STREAMING
    assert sent.user_message.position + 1 == sent.assistant_message.position
    assert world.stored(sent.assistant_message.id).generation_id == sent.generation_id
    await world.events(sent)  # let it finish


async def test_the_stored_reply_equals_the_concatenated_deltas() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("Hel", "lo", ", ", "wor", "ld\n!"))))
    sent = await world.send(await world.conversation())
    events = await world.events(sent)
    streamed = "".join(e.data["content"] for e in events if e.kind == "delta")
    assert events[0].kind == "start" and events[-1].kind == "done"
    assert streamed == "Hello, world\n!"
    assert world.stored(sent.assistant_message.id).content == streamed
    assert events[-1].data["message"]["content"] == streamed
    assert world.stored(sent.assistant_message.id).status is MessageStatus.COMPLETE


async def test_waiting_returns_the_stored_final_reply() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("done",))))
    sent = await world.send(await world.conversation(), wait=True)
    assert sent.assistant_message.status is MessageStatus.COMPLETE
    assert sent.assistant_message.content == "done"


async def test_usage_reported_by_the_provider_is_stored_with_its_cost() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("x",), usage=Usage(1000, 500))))
    sent = await world.send(await world.conversation(), wait=True)
    reply = world.stored(sent.assistant_message.id)
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (1000, 500)
    # 1000 * $2/M + 500 * $10/M
    assert str(reply.cost_usd) == "0.007"


async def test_usage_is_estimated_when_the_provider_reports_none() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("a" * 30,))))
    sent = await world.send(await world.conversation(), "question", wait=True)
    usage = world.stored(sent.assistant_message.id).usage
    assert usage is not None and usage.completion_tokens == 10 and usage.prompt_tokens > 0


async def test_a_message_over_the_limit_is_refused_with_zero_model_calls() -> None:
    world = ChatWorld(policy=ChatPolicy(max_message_chars=10))
    conversation = await world.conversation()
    with pytest.raises(MessageTooLong):
        await world.send(conversation, "x" * 11)
    assert world.router.calls == []
    assert world.storage.messages == {}


async def test_a_message_that_cannot_fit_the_window_is_refused_before_storing() -> None:
    world = ChatWorld(policy=ChatPolicy(max_message_chars=100_000))
    with pytest.raises(ContextTooLong):
        await world.send(await world.conversation(), "x" * 20_000)
    assert world.router.calls == [] and world.storage.messages == {}


async def test_someone_elses_conversation_is_not_found() -> None:
    world = ChatWorld()
    theirs = await world.conversation(owner=uuid4())
    with pytest.raises(ConversationNotFound):
        await world.send(theirs)
    assert world.router.calls == []


async def test_an_unknown_model_is_refused_before_storing() -> None:
    world = ChatWorld()
    with pytest.raises(ModelNotFound):
        await world.send(await world.conversation(), model="nope")
    assert world.storage.messages == {}


async def test_the_prompt_has_the_system_prompt_history_and_the_new_message() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("first reply",)), Script()))
    conversation = await world.conversation(system_prompt="Be terse.")
    await world.send(conversation, "one", wait=True)
    await world.send(conversation, "two", wait=True)
    _, prompt, max_tokens = world.router.calls[1]
    assert [(m.role, m.content) for m in prompt] == [
        ("system", "Be terse."),
        ("user", "one"),
        ("assistant", "first reply"),
        ("user", "two"),
    ]
    assert max_tokens == 512  # the model's cap, below the server's 1024


async def test_failed_replies_are_left_out_of_later_prompts() -> None:
    from application.ports.llm import ProviderUnavailable

    world = ChatWorld(
        router=FakeRouter(Script(pieces=("half",), error=ProviderUnavailable()), Script())
    )
    conversation = await world.conversation()
    await world.send(conversation, "one", wait=True)
    await world.send(conversation, "two", wait=True)
    _, prompt, _ = world.router.calls[1]
    assert [m.content for m in prompt] == ["one", "two"]


async def test_both_messages_are_announced_to_listeners_after_completion() -> None:
    world = ChatWorld(router=FakeRouter(Script(pieces=("ok",))))
    sent = await world.send(await world.conversation(), "hi", wait=True)
    await world.runner.shutdown(grace_s=1)
    assert [(s.message_id, s.role) for s in world.hooks.saved] == [
        (sent.user_message.id, Role.USER.value),
        (sent.assistant_message.id, Role.ASSISTANT.value),
    ]


async def test_a_failing_listener_never_fails_the_reply() -> None:
    from tests.unit.chat.fakes import RecordingHooks

    world = ChatWorld(hooks=RecordingHooks(fail=True))
    sent = await world.send(await world.conversation(), wait=True)
    await world.runner.shutdown(grace_s=1)
    assert world.stored(sent.assistant_message.id).status is MessageStatus.COMPLETE
    assert len(world.hooks.saved) == 2


async def test_the_first_message_names_an_untitled_conversation() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    await world.send(conversation, "Plan a trip to Lisbon", wait=True)
    stored = world.storage.conversations[conversation.id]
    assert stored.title == "Plan a trip to Lisbon" and stored.message_count == 2
