"""Creating, changing, listing and deleting conversations."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.chat.delete_conversation import DeleteConversation
from application.chat.get_conversation import GetConversation
from application.chat.list_messages import ListMessages, ListMessagesQuery
from application.chat.update_conversation import UpdateConversation, UpdateConversationCommand
from domain.catalog import ModelNotFound
from domain.conversations import ConversationNotFound
from domain.messages import MessageTooLong
from domain.pagination import MAX_PAGE_SIZE, page_size
from tests.unit.chat.fakes import SPEC, FakeRouter, RecordingHooks
from tests.unit.chat.world import ChatWorld


def update(world: ChatWorld) -> UpdateConversation:
    return UpdateConversation(world.uow(), world.router, world.clock, world.policy)


async def test_a_new_conversation_uses_the_default_model_and_belongs_to_its_creator() -> None:
    world = ChatWorld()
    conversation = await world.conversation(title="Trip")
    assert (conversation.model, conversation.owner_id, conversation.title) == (
        SPEC.id,
        world.owner,
        "Trip",
    )
    assert await GetConversation(world.uow())(world.owner, conversation.id) == conversation


async def test_creating_with_an_unknown_model_or_a_huge_system_prompt_is_refused() -> None:
    world = ChatWorld()
    with pytest.raises(ModelNotFound):
        await world.conversation(model="nope")
    with pytest.raises(MessageTooLong):
        await world.conversation(system_prompt="x" * 1001)
    assert world.storage.conversations == {}


async def test_update_changes_only_the_fields_given() -> None:
    world = ChatWorld()
    conversation = await world.conversation(title="Old", system_prompt="Be kind.")
    changed = await update(world)(
        UpdateConversationCommand(world.owner, conversation.id, title="New", archived=True)
    )
    assert (changed.title, changed.archived, changed.system_prompt) == ("New", True, "Be kind.")
    assert changed.updated_at > conversation.updated_at
    cleared = await update(world)(
        UpdateConversationCommand(world.owner, conversation.id, system_prompt=None)
    )
    assert cleared.system_prompt is None and cleared.title == "New"


async def test_another_user_cannot_read_change_list_or_delete_a_conversation() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    stranger = uuid4()
    with pytest.raises(ConversationNotFound):
        await GetConversation(world.uow())(stranger, conversation.id)
    with pytest.raises(ConversationNotFound):
        await update(world)(UpdateConversationCommand(stranger, conversation.id, title="x"))
    with pytest.raises(ConversationNotFound):
        await ListMessages(world.uow())(ListMessagesQuery(stranger, conversation.id))
    with pytest.raises(ConversationNotFound):
        await DeleteConversation(world.uow(), world.hooks)(stranger, conversation.id)
    assert world.storage.conversations[conversation.id].title == conversation.title


async def test_delete_removes_the_messages_and_tells_listeners() -> None:
    world = ChatWorld()
    conversation = await world.conversation()
    await world.send(conversation, wait=True)
    await DeleteConversation(world.uow(), world.hooks)(world.owner, conversation.id)
    assert world.storage.conversations == {} and world.storage.messages == {}
    assert world.hooks.deleted == [conversation.id]


async def test_a_failing_listener_does_not_undo_a_delete() -> None:
    world = ChatWorld(hooks=RecordingHooks(fail=True))
    conversation = await world.conversation()
    await DeleteConversation(world.uow(), world.hooks)(world.owner, conversation.id)
    assert world.storage.conversations == {}


async def test_switching_to_an_unknown_model_is_refused() -> None:
    world = ChatWorld(router=FakeRouter())
    conversation = await world.conversation()
    with pytest.raises(ModelNotFound):
        await update(world)(UpdateConversationCommand(world.owner, conversation.id, model="gpt-9"))


def test_page_sizes_default_to_20_and_are_capped_at_100() -> None:
    assert page_size(None) == 20
    assert page_size(10_000) == MAX_PAGE_SIZE == 100
    assert page_size(0) == 1
