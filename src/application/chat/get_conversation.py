"""Read one of the caller's conversations."""

from __future__ import annotations

from uuid import UUID

from application.ports.unit_of_work import UnitOfWork
from domain.conversations import Conversation, ConversationNotFound


class GetConversation:
    """Business rules: only the owner sees it; anyone else gets "not found"."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, owner_id: UUID, conversation_id: UUID) -> Conversation:
        async with self._uow as uow:
            return await owned_conversation(uow, owner_id, conversation_id)


async def owned_conversation(
    uow: UnitOfWork, owner_id: UUID, conversation_id: UUID
) -> Conversation:
    conversation = await uow.conversations.get(conversation_id, owner_id)
    if conversation is None:
        raise ConversationNotFound(f"conversation {conversation_id} not found")
    return conversation
