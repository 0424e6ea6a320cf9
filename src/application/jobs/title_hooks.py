"""Background titles: chat's message hooks, extended to title a new conversation."""

from __future__ import annotations

from uuid import UUID

import structlog

from application.jobs.kinds.title import TitleConversation
from application.jobs.submit_internal import SubmitInternalJob
from application.ports.message_hooks import MessageHooks

log = structlog.get_logger("parley.jobs")


class TitlingHooks(MessageHooks):
    """Passes every hook on to ``inner``; after a conversation's first exchange it also
    queues an internal title job (a failure to queue it never reaches chat)."""

    def __init__(self, inner: MessageHooks, submit: SubmitInternalJob) -> None:
        self._inner = inner
        self._submit = submit

    async def message_saved(
        self, *, message_id: UUID, conversation_id: UUID, owner_id: UUID, role: str, content: str
    ) -> None:
        await self._inner.message_saved(
            message_id=message_id,
            conversation_id=conversation_id,
            owner_id=owner_id,
            role=role,
            content=content,
        )

    async def conversation_deleted(self, *, conversation_id: UUID, owner_id: UUID) -> None:
        await self._inner.conversation_deleted(conversation_id=conversation_id, owner_id=owner_id)

    async def first_exchange_stored(self, *, conversation_id: UUID, owner_id: UUID) -> None:
        await self._inner.first_exchange_stored(conversation_id=conversation_id, owner_id=owner_id)
        try:
            await self._submit(
                owner_id, TitleConversation.kind, {"conversation_id": str(conversation_id)}
            )
        except Exception as exc:
            log.warning(
                "title_job_not_queued",
                conversation_id=str(conversation_id),
                error=type(exc).__name__,
            )
