"""ImportConversations: store the conversations of an export from another system (or ours)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from uuid import UUID

import structlog

from application.llm.router import LLMRouter
from application.portability.progress import CancelCheck, Progress, never_cancelled, no_progress
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.portability import ConversationSources
from application.ports.unit_of_work import UnitOfWorkFactory
from application.search.imported_indexing import ImportedMessagesIndexing
from domain.conversations import Conversation, imported_title
from domain.errors import Conflict, DomainError, Unavailable
from domain.imports import (
    ImportedConversation,
    ImportEmpty,
    ImportFormat,
    ImportItem,
    ImportReport,
    ItemStatus,
    UnreadableEntry,
)
from domain.messages import Message

log = structlog.get_logger("parley.import")

PARSE_BATCH = 32
"""Entries parsed per hop to the parsing thread: parsing never blocks the event loop."""
MAX_REPORTED_FAILURES = 100
MODEL_CHARS = 100
ERROR_CODE_CHARS = 64


@dataclass(frozen=True, slots=True)
class ImportCommand:
    owner_id: UUID
    path: Path
    format: ImportFormat = ImportFormat.AUTO
    on_progress: Progress = no_progress
    cancelled: CancelCheck = never_cancelled


class ImportConversations:
    """Business rules:
    - the file is parsed as a stream; each conversation is stored whole or not at all, in
      its own transaction;
    - a conversation already imported by this owner (same source and source id, or for
      Parley's own format the same conversation id) is ``skipped``: importing a file twice
      creates nothing new;
    - an entry that cannot be read or stored is ``failed`` with a reason; the rest import;
    - a file with nothing importable raises ``ImportEmpty``; an unrecognised one
      ``ImportUnsupported``; a hostile archive ``ImportRefused``;
    - original timestamps, roles, models, usage and costs are kept; nothing is metered
      (imports never touch quotas); messages are indexed for search after they are stored.
    """

    def __init__(
        self,
        sources: ConversationSources,
        uow_factory: UnitOfWorkFactory,
        router: LLMRouter,
        clock: Clock,
        ids: IdGenerator,
        indexing: ImportedMessagesIndexing,
    ) -> None:
        self._sources = sources
        self._uow_factory = uow_factory
        self._router = router
        self._clock = clock
        self._ids = ids
        self._indexing = indexing

    async def __call__(self, command: ImportCommand) -> ImportReport:
        reading = await asyncio.to_thread(self._sources.open, command.path, command.format)
        entries = iter(reading)
        report = ImportReport()
        default_model = self._router.resolve(None).id
        # The next batch is parsed in a thread while this one is stored.
        upcoming = asyncio.ensure_future(asyncio.to_thread(_take, entries, PARSE_BATCH))
        try:
            while batch := await upcoming:
                upcoming = asyncio.ensure_future(asyncio.to_thread(_take, entries, PARSE_BATCH))
                known = await self._already_imported(command.owner_id, batch)
                for entry in batch:
                    item = known.get(id(entry)) or await self._import_one(
                        command.owner_id, entry, default_model
                    )
                    report.items.append(item)
                await command.on_progress(reading.fraction_read())
                if await command.cancelled():
                    report.cancelled = True
                    break
        finally:
            # The parser thread finishes its batch before the file is let go; what it read
            # (or raised) after the import stopped is of no interest.
            await asyncio.wait([upcoming])
            if not upcoming.cancelled():
                upcoming.exception()
        if report.imported:
            self._indexing.messages_imported()
        log.info(
            "import_finished",
            owner_id=str(command.owner_id),
            imported=report.imported,
            skipped=report.skipped,
            failed=report.failed,
            cancelled=report.cancelled,
        )
        if not report.cancelled and report.imported + report.skipped == 0:
            failures = [
                {"source_id": i.source_id, "error": i.error}
                for i in report.items[:MAX_REPORTED_FAILURES]
            ]
            detail = (
                "the file holds no conversations"
                if not report.items
                else f"none of the {len(report.items)} conversations in the file could be read"
            )
            raise ImportEmpty(detail, details={"items": failures} if failures else None)
        return report

    async def _already_imported(
        self, owner_id: UUID, batch: list[ImportedConversation | UnreadableEntry]
    ) -> dict[int, ImportItem]:
        """One query for the batch: a re-import skips without a transaction each."""
        wanted = [e for e in batch if isinstance(e, ImportedConversation)]
        async with self._uow_factory() as uow:
            present = await uow.conversations.with_sources(owner_id, {e.source for e in wanted})
        return {
            id(e): ImportItem(
                e.source.id,
                imported_title(_clean(e.title), e.messages[0].content if e.messages else ""),
                ItemStatus.SKIPPED,
                conversation_id=present[e.source],
            )
            for e in wanted
            if e.source in present
        }

    async def _import_one(
        self, owner_id: UUID, entry: ImportedConversation | UnreadableEntry, default_model: str
    ) -> ImportItem:
        if isinstance(entry, UnreadableEntry):
            return ImportItem(entry.source_id, entry.title, ItemStatus.FAILED, error=entry.reason)
        title = imported_title(
            _clean(entry.title), entry.messages[0].content if entry.messages else ""
        )
        try:
            return await self._store(owner_id, entry, title, default_model)
        except Conflict:
            # Either the same conversation, imported concurrently by another job (skipped),
            # or a row the database refused for another reason (failed).
            async with self._uow_factory() as uow:
                existing = await uow.conversations.with_source(owner_id, entry.source)
            if existing is not None:
                return ImportItem(
                    entry.source.id, title, ItemStatus.SKIPPED, conversation_id=existing
                )
            return ImportItem(
                entry.source.id,
                title,
                ItemStatus.FAILED,
                error="the conversation could not be stored",
            )
        except Unavailable:
            raise  # the database is down: the whole job fails (and may be retried)
        except (DomainError, ValueError, TypeError) as exc:
            return ImportItem(entry.source.id, title, ItemStatus.FAILED, error=str(exc))
        except Exception as exc:  # a row the database refuses must not fail the file
            log.warning("import_store_failed", error=type(exc).__name__)
            return ImportItem(
                entry.source.id,
                title,
                ItemStatus.FAILED,
                error="the conversation could not be stored",
            )

    async def _store(
        self, owner_id: UUID, entry: ImportedConversation, title: str, default_model: str
    ) -> ImportItem:
        async with self._uow_factory() as uow:
            # The batch was checked for its sources already (and the unique index guards a
            # concurrent import); Parley's own format is also skipped by conversation id.
            if entry.original_id is not None:
                mine = await uow.conversations.get(entry.original_id, owner_id)
                if mine is not None:
                    return ImportItem(
                        entry.source.id, title, ItemStatus.SKIPPED, conversation_id=mine.id
                    )
            conversation, messages = self._build(owner_id, entry, title, default_model)
            await uow.conversations.add_imported(conversation, messages)
            await uow.commit()
        return ImportItem(
            entry.source.id,
            title,
            ItemStatus.IMPORTED,
            conversation_id=conversation.id,
            messages=len(messages),
        )

    def _build(
        self, owner_id: UUID, entry: ImportedConversation, title: str, default_model: str
    ) -> tuple[Conversation, list[Message]]:
        now = self._clock.now()
        first = entry.created_at or next(
            (m.created_at for m in entry.messages if m.created_at), None
        )
        started = first or now
        conversation_id = self._ids.new_id()
        messages: list[Message] = []
        last = started
        for position, item in enumerate(entry.messages):
            last = item.created_at or last  # a message without a time takes its parent's
            model = _clean(item.model)
            messages.append(
                Message(
                    id=self._ids.new_id(),
                    conversation_id=conversation_id,
                    role=item.role,
                    content=_clean(item.content) or "",
                    status=item.status,
                    created_at=last,
                    model=model[:MODEL_CHARS] if model else None,
                    usage=item.usage,
                    cost_usd=item.cost_usd,
                    error_code=item.error_code[:ERROR_CODE_CHARS] if item.error_code else None,
                    position=position,
                    reasoning=_clean(item.reasoning),
                )
            )
        conversation = Conversation(
            id=conversation_id,
            owner_id=owner_id,
            title=title,
            model=(_clean(entry.model) or default_model)[:MODEL_CHARS],
            system_prompt=_clean(entry.system_prompt) or None,
            archived=entry.archived,
            message_count=len(messages),
            created_at=started,
            updated_at=entry.updated_at or last,
            source=entry.source,
        )
        return conversation, messages


def _take(
    entries: Iterator[ImportedConversation | UnreadableEntry], n: int
) -> list[ImportedConversation | UnreadableEntry]:
    return list(islice(entries, n))


def _clean(text: str | None) -> str | None:
    """NUL cannot be stored in PostgreSQL text; foreign exports occasionally carry one."""
    if text is None:
        return None
    return text.replace("\x00", "") if "\x00" in text else text
