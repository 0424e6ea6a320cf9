"""A turn's context read (one round trip) and its write (one self-committing statement on
PostgreSQL) say the same as the generic port paths built from the plain methods, on both
backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dishka import AsyncContainer
from httpx import AsyncClient

from application.ports.conversations import ConversationRepository
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.conversations import Conversation
from domain.messages import Message, MessageStatus, pending_reply, user_message
from tests.integration.chat.support import API, new_conversation, sign_up


async def _owner(client: AsyncClient, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/v1/auth/me", headers=headers)).json()["id"])


def _turn(conversation_id: uuid.UUID, now: datetime) -> tuple[Message, Message]:
    user = user_message(
        id=uuid.uuid4(), conversation_id=conversation_id, content="third", now=now, position=0
    )
    reply = pending_reply(
        id=uuid.uuid4(), conversation_id=conversation_id, model="parley-fake",
        generation_id=uuid.uuid4(), now=now, position=1,
    )  # fmt: skip
    return user, reply


async def test_the_context_is_the_conversation_and_its_history(
    client: AsyncClient, container: AsyncContainer
) -> None:
    headers = await sign_up(client)
    owner = await _owner(client, headers)
    conversation = await new_conversation(client, headers, system_prompt="Be brief.")
    cid = uuid.UUID(conversation["id"])
    for text in ("first question", "second question"):
        sent = await client.post(f"{API}/{cid}/messages", json={"content": text}, headers=headers)
        assert sent.status_code == 201, sent.text
    factory = await container.get(UnitOfWorkFactory)

    async with factory.single_statement() as uow:
        expected = await uow.messages.prompt_history(cid, 3)
        found = await uow.conversations.turn_context(cid, owner, uow.messages, 3)
        assert found is not None
        read, history = found
        assert read.id == cid and read.system_prompt == "Be brief." and read.message_count == 4
        assert history == expected
        assert [t.role for t in history] == ["assistant", "user", "assistant"]
        assert history[1].content == "second question"
        generic = await ConversationRepository.turn_context(
            uow.conversations, cid, owner, uow.messages, 3
        )
        assert generic is not None and generic[1] == expected
        assert await uow.conversations.turn_context(cid, uuid.uuid4(), uow.messages, 3) is None


async def test_a_stored_turn_takes_the_next_two_positions_or_nothing(
    client: AsyncClient, container: AsyncContainer
) -> None:
    headers = await sign_up(client)
    owner = await _owner(client, headers)
    # Titled by its owner, so the background title job (which names an untitled
    # conversation after its first exchange) cannot rename it while this test reads it.
    made = await new_conversation(client, headers, title="mine")
    cid = uuid.UUID(made["id"])
    sent = await client.post(f"{API}/{cid}/messages", json={"content": "hello"}, headers=headers)
    assert sent.status_code == 201, sent.text
    factory = await container.get(UnitOfWorkFactory)
    now = datetime.now(UTC) + timedelta(seconds=1)
    lease = now + timedelta(seconds=30)

    async with factory.single_statement() as uow:
        found = await uow.conversations.get(cid, owner)
        assert found is not None
        for store in (uow.conversations.store_turn, _generic_store(uow.conversations)):
            user, reply = _turn(cid, now)
            first = await store(
                found, user, reply, messages=uow.messages, created=False, title="ignored",
                now=now, lease_until=lease,
            )  # fmt: skip
            assert first is not None and (user.position, reply.position) == (first, first + 1)
            stored = await uow.messages.get(reply.id)
            assert stored is not None and stored.position == first + 1
            assert stored.status is MessageStatus.STREAMING
        await uow.commit()
        assert first == 4, "two turns before, one by each path"
        after = await uow.conversations.get(cid, owner)
        assert after is not None and after.message_count == 6 and after.updated_at >= now
        assert after.title == "mine", "only a conversation without messages takes a title"
        stranger = Conversation.start(
            id=cid, owner_id=uuid.uuid4(), model="parley-fake", now=now, system_prompt=None
        )
        user, reply = _turn(cid, now)
        assert await uow.conversations.store_turn(
            stranger, user, reply, messages=uow.messages, created=False, title=None, now=now,
            lease_until=lease,
        ) is None, "not the owner's: nothing claimed"  # fmt: skip
        assert await uow.messages.get(user.id) is None
        kept = await uow.conversations.get(cid, owner)
        assert kept is not None and kept.message_count == 6


async def test_a_new_conversation_is_stored_with_its_first_turn(
    client: AsyncClient, container: AsyncContainer
) -> None:
    headers = await sign_up(client)
    owner = await _owner(client, headers)
    factory = await container.get(UnitOfWorkFactory)
    now = datetime.now(UTC)
    async with factory.single_statement() as uow:
        new = Conversation.start(
            id=uuid.uuid4(), owner_id=owner, model="parley-fake", now=now, system_prompt="Hi."
        )
        assert new.title_from_first_message("third")
        new.message_count = 2
        user, reply = _turn(new.id, now)
        first = await uow.conversations.store_turn(
            new, user, reply, messages=uow.messages, created=True, title=None, now=now,
            lease_until=now + timedelta(seconds=30),
        )  # fmt: skip
        await uow.commit()
        assert first == 0
        stored = await uow.conversations.get(new.id, owner)
        assert stored is not None and stored.message_count == 2 and stored.title == "third"
        assert stored.system_prompt == "Hi."
        page = await uow.messages.page(new.id, limit=10)
        assert [(m.id, m.position) for m in page.items] == [(user.id, 0), (reply.id, 1)]


def _generic_store(repository: ConversationRepository):  # type: ignore[no-untyped-def]
    async def store(*args: object, **kwargs: object) -> int | None:
        return await ConversationRepository.store_turn(repository, *args, **kwargs)  # type: ignore[arg-type]

    return store
