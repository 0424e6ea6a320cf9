"""Delete one of the caller's conversations with all its messages."""

from __future__ import annotations

from uuid import UUID

import structlog

from application.ports.message_hooks import MessageHooks
from application.ports.unit_of_work import UnitOfWork
from domain.conversations import ConversationNotFound

log = structlog.get_logger("parley.chat")


class DeleteConversation:
    """Business rules:
    - only the owner may delete it (anyone else: "not found");
    - its messages go in the same transaction;
    - after the commit, listeners (search index, ...) are told; their failure does not
      undo or fail the deletion.
    """

    def __init__(self, uow: UnitOfWork, hooks: MessageHooks) -> None:
        self._uow = uow
        self._hooks = hooks

    async def __call__(self, owner_id: UUID, conversation_id: UUID) -> None:
        async with self._uow as uow:
            if not await uow.conversations.delete(conversation_id, owner_id):
                raise ConversationNotFound(f"conversation {conversation_id} not found")
            await uow.commit()
        try:
            await self._hooks.conversation_deleted(
                conversation_id=conversation_id, owner_id=owner_id
            )
        except Exception:
            log.exception("conversation_deleted_hook_failed", conversation_id=str(conversation_id))
