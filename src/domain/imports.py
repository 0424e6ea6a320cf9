"""Conversations brought in from another system, before they are stored, and the report.

A reader translates a foreign file into ``ImportedConversation`` values (or an
``UnreadableEntry`` for one it cannot make sense of); the import use case stores each one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.conversations import SourceRef
from domain.errors import InvalidInput
from domain.messages import MessageStatus, Role, TokenUsage


class ImportFormat(StrEnum):
    AUTO = "auto"
    PARLEY = "parley"
    CHATGPT = "chatgpt"
    CLAUDE = "claude"
    OPENWEBUI = "openwebui"


class ImportEmpty(InvalidInput):
    code = "IMPORT_EMPTY"
    title = "Nothing to import"


class ImportUnsupported(InvalidInput):
    code = "IMPORT_UNSUPPORTED"
    title = "Unrecognised import file"


class ImportRefused(InvalidInput):
    """A hostile or oversized archive: too many entries, too large unpacked, suspicious
    compression ratio, or entry names that try to leave the archive."""

    code = "IMPORT_REFUSED"
    title = "Import file refused"


@dataclass(frozen=True, slots=True)
class ImportedMessage:
    role: Role
    content: str
    created_at: datetime | None
    model: str | None = None
    status: MessageStatus = MessageStatus.COMPLETE
    usage: TokenUsage | None = None
    cost_usd: Decimal = field(default_factory=Decimal)
    error_code: str | None = None
    reasoning: str | None = None


@dataclass(frozen=True, slots=True)
class ImportedConversation:
    source: SourceRef
    title: str | None
    messages: tuple[ImportedMessage, ...]
    created_at: datetime | None = None
    updated_at: datetime | None = None
    model: str | None = None
    system_prompt: str | None = None
    archived: bool = False
    original_id: UUID | None = None
    """Set by Parley's own format: the conversation's id where it was exported."""


@dataclass(frozen=True, slots=True)
class UnreadableEntry:
    """One entry of the file that could not be translated; the others still import."""

    source_id: str
    title: str | None
    reason: str


ImportEntry = ImportedConversation | UnreadableEntry


class ItemStatus(StrEnum):
    IMPORTED = "imported"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ImportItem:
    source_id: str
    title: str | None
    status: ItemStatus
    conversation_id: UUID | None = None
    messages: int | None = None
    error: str | None = None


@dataclass(slots=True)
class ImportReport:
    items: list[ImportItem] = field(default_factory=list)
    cancelled: bool = False

    def count(self, status: ItemStatus) -> int:
        return sum(1 for item in self.items if item.status is status)

    @property
    def imported(self) -> int:
        return self.count(ItemStatus.IMPORTED)

    @property
    def skipped(self) -> int:
        return self.count(ItemStatus.SKIPPED)

    @property
    def failed(self) -> int:
        return self.count(ItemStatus.FAILED)
