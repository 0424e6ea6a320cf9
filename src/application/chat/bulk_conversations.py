"""Archive, unarchive or delete many of the caller's conversations at once."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

import structlog

from application.ports.message_hooks import MessageHooks
from application.ports.unit_of_work import UnitOfWork
from domain.errors import InvalidInput

log = structlog.get_logger("parley.chat")

MAX_BULK_IDS = 100


class BulkAction(StrEnum):
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class BulkCommand:
    owner_id: UUID
    action: BulkAction
    ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    id: UUID
    status: str  # "ok" | "not_found"


class BulkConversations:
    """Business rules:
    - at most 100 ids; each gets a result, in the order sent (a repeated id once);
    - ids that are not the caller's (someone else's, or none at all) are ``not_found`` and
      untouched;
    - one transaction for the lot; deleted conversations take their messages with them and
      their search entries are forgotten after the commit.
    """

    def __init__(self, uow: UnitOfWork, hooks: MessageHooks) -> None:
        self._uow = uow
        self._hooks = hooks

    async def __call__(self, command: BulkCommand) -> list[BulkOutcome]:
        ids = list(dict.fromkeys(command.ids))
        if len(ids) > MAX_BULK_IDS:
            raise InvalidInput(
                f"at most {MAX_BULK_IDS} ids per request", details={"limit": MAX_BULK_IDS}
            )
        async with self._uow as uow:
            if command.action is BulkAction.DELETE:
                done = await uow.conversations.delete_many(command.owner_id, ids)
            else:
                archived = command.action is BulkAction.ARCHIVE
                done = await uow.conversations.set_archived(command.owner_id, ids, archived)
            await uow.commit()
        if command.action is BulkAction.DELETE:
            for conversation_id in done:
                try:
                    await self._hooks.conversation_deleted(
                        conversation_id=conversation_id, owner_id=command.owner_id
                    )
                except Exception:
                    log.exception("conversation_deleted_hook_failed")
        return [BulkOutcome(i, "ok" if i in done else "not_found") for i in ids]
