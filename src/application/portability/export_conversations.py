"""ExportConversations: write the owner's conversations to an expiring, owner-only file."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import structlog

from application.portability.progress import CancelCheck, Progress, never_cancelled, no_progress
from application.ports.clock import Clock
from application.ports.portability import ExportStore
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.conversations import ConversationNotFound
from domain.messages import Message

log = structlog.get_logger("parley.export")

PAGE = 100


class ExportFormat(StrEnum):
    PARLEY = "parley"
    MARKDOWN = "markdown"


@dataclass(frozen=True, slots=True)
class ExportPolicy:
    ttl_s: float = 86_400.0
    """How long an export can be downloaded; afterwards it is deleted."""


@dataclass(frozen=True, slots=True)
class ExportCommand:
    owner_id: UUID
    export_id: UUID
    format: ExportFormat = ExportFormat.PARLEY
    conversation_ids: tuple[UUID, ...] | None = None
    on_progress: Progress = no_progress
    cancelled: CancelCheck = never_cancelled


@dataclass(frozen=True, slots=True)
class ExportResult:
    export_id: UUID
    format: ExportFormat
    conversations: int
    bytes: int
    expires_at: datetime
    filename: str
    cancelled: bool = False

    @property
    def download_path(self) -> str:
        return f"/api/v1/exports/{self.export_id}/download"


class ExportConversations:
    """Business rules:
    - only the owner's conversations: an id of anyone else's is "not found" and nothing
      is written;
    - ``parley`` is lossless (every field import needs to reproduce the conversation);
      ``markdown`` is for reading;
    - the file expires after the configured time; expired files are deleted;
    - running it again with the same export id rewrites the same file (jobs are delivered
      at least once); a cancelled export leaves no file behind.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        store: ExportStore,
        clock: Clock,
        policy: ExportPolicy,
    ) -> None:
        self._uow_factory = uow_factory
        self._store = store
        self._clock = clock
        self._policy = policy

    async def __call__(self, command: ExportCommand) -> ExportResult:
        now = self._clock.now()
        await asyncio.to_thread(self._store.purge_expired, now)
        ids = await self._conversation_ids(command)
        expires_at = now + timedelta(seconds=self._policy.ttl_s)
        sink = self._store.create(
            command.export_id, command.owner_id, command.format.value, expires_at
        )
        try:
            for done, conversation_id in enumerate(ids, start=1):
                async with self._uow_factory() as uow:
                    conversation = await uow.conversations.get(conversation_id, command.owner_id)
                    messages = await _all_messages(uow, conversation_id) if conversation else []
                if conversation is not None:  # deleted since the export started: left out
                    sink.add(conversation, messages)
                await command.on_progress(done / len(ids))
                if await command.cancelled():
                    sink.discard()
                    return ExportResult(
                        command.export_id, command.format, done, 0, expires_at, "", cancelled=True
                    )
            stored = await asyncio.to_thread(sink.finish)
        except BaseException:
            sink.discard()
            raise
        log.info(
            "export_finished",
            owner_id=str(command.owner_id),
            conversations=len(ids),
            bytes=stored.bytes,
        )
        return ExportResult(
            command.export_id,
            command.format,
            len(ids),
            stored.bytes,
            stored.expires_at,
            stored.filename,
        )

    async def _conversation_ids(self, command: ExportCommand) -> list[UUID]:
        async with self._uow_factory() as uow:
            if command.conversation_ids is not None:
                wanted = list(dict.fromkeys(command.conversation_ids))
                for conversation_id in wanted:
                    if await uow.conversations.get(conversation_id, command.owner_id) is None:
                        raise ConversationNotFound(f"conversation {conversation_id} not found")
                return wanted
            ids: list[UUID] = []
            cursor = None
            while True:
                page = await uow.conversations.page(command.owner_id, limit=PAGE, cursor=cursor)
                ids += [c.id for c in page.items]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        ids.reverse()  # oldest activity first: the file reads like a history
        return ids


async def _all_messages(uow: UnitOfWork, conversation_id: UUID) -> list[Message]:
    messages: list[Message] = []
    cursor = None
    while True:
        page = await uow.messages.page(conversation_id, limit=PAGE, cursor=cursor)
        messages += page.items
        if page.next_cursor is None:
            return messages
        cursor = page.next_cursor
