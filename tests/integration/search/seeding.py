"""Put users, conversations and messages straight into storage, then index them the way
chat does (through MessageHooks), so search tests do not depend on the chat HTTP API."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path

from dishka import AsyncContainer

from application.ports.message_hooks import MessageHooks
from application.ports.unit_of_work import UnitOfWorkFactory
from application.search.indexing_queue import IndexingQueue
from domain.conversations import Conversation
from domain.messages import Message, MessageStatus, Role
from domain.users import User
from entrypoints.settings import Settings
from tests.conftest import make_settings
from tests.support.backends import Backend

_positions = itertools.count(1)


def settings_with_data_dir(backend: Backend, data_dir: Path, **env: str) -> Settings:
    """Same database as the backend, but the index file in ``data_dir`` (a fresh process)."""
    database_url = make_settings(backend).database_url
    return make_settings(
        backend, PARLEY_DATA_DIR=str(data_dir), PARLEY_DATABASE_URL=database_url, **env
    )


def email_of(user_id: uuid.UUID) -> str:
    return f"search-{user_id.hex[:12]}@example.com"


async def new_user(container: AsyncContainer) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with (await container.get(UnitOfWorkFactory))() as uow:
        await uow.users.add(
            User(
                id=user_id,
                email=email_of(user_id),
                display_name="searcher",
                role="user",
                plan="free",
                is_active=True,
                password_hash="not-a-real-hash",
                created_at=datetime.now(UTC),
            )
        )
        await uow.commit()
    return user_id


async def new_conversation(container: AsyncContainer, owner_id: uuid.UUID) -> uuid.UUID:
    conversation = Conversation.start(
        id=uuid.uuid4(), owner_id=owner_id, model="parley-fake", now=datetime.now(UTC)
    )
    async with (await container.get(UnitOfWorkFactory))() as uow:
        await uow.conversations.add(conversation)
        await uow.commit()
    return conversation.id


async def add_messages(
    container: AsyncContainer,
    owner_id: uuid.UUID,
    conversation_id: uuid.UUID,
    texts: list[str],
    *,
    role: str = "user",
    index: bool = True,
) -> list[uuid.UUID]:
    """Store messages; with ``index``, tell search about them and wait until it is done."""
    messages = [
        Message(
            id=uuid.uuid4(),
            conversation_id=conversation_id,
            role=Role(role),
            content=text,
            status=MessageStatus.COMPLETE,
            created_at=datetime.now(UTC),
            position=next(_positions),
        )
        for text in texts
    ]
    async with (await container.get(UnitOfWorkFactory))() as uow:
        for message in messages:
            await uow.messages.add(message)
        await uow.commit()
    if index:
        hooks = await container.get(MessageHooks)
        for message in messages:
            await hooks.message_saved(
                message_id=message.id,
                conversation_id=conversation_id,
                owner_id=owner_id,
                role=role,
                content=message.content,
            )
        await (await container.get(IndexingQueue)).drain()
    return [m.id for m in messages]


async def delete_conversation(
    container: AsyncContainer, owner_id: uuid.UUID, conversation_id: uuid.UUID
) -> None:
    """Chat's DeleteConversation, with the hooks search installs."""
    from application.chat.delete_conversation import DeleteConversation

    uow = (await container.get(UnitOfWorkFactory))()
    use_case = DeleteConversation(uow, await container.get(MessageHooks))
    await use_case(owner_id, conversation_id)
