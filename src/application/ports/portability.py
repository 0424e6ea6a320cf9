"""Ports for moving conversations in and out: foreign-file readers and export files."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

from domain.conversations import Conversation
from domain.errors import Gone, NotFound
from domain.imports import ImportEntry, ImportFormat
from domain.messages import Message


class ImportReading(Protocol):
    """Entries of one file, translated as they are parsed (never the whole file at once)."""

    @abstractmethod
    def __iter__(self) -> Iterator[ImportEntry]: ...

    @abstractmethod
    def fraction_read(self) -> float:
        """How far through the file parsing is, 0..1 (for progress bars)."""


class ConversationSources(Protocol):
    """Every supported format behind one door: detect (``auto``), unpack, translate."""

    @abstractmethod
    def open(self, path: Path, format: ImportFormat) -> ImportReading:
        """Raise ``ImportUnsupported`` for a file no reader recognises and ``ImportRefused``
        for a hostile archive, before any entry is yielded."""


class ImportUploads(Protocol):
    """Uploaded files waiting for their import job, shared by API and worker processes.

    Named by owner and upload id only (never by the client's file name), so one owner's
    job can never open another owner's upload."""

    @abstractmethod
    def path(self, owner_id: UUID, upload_id: UUID) -> Path: ...

    @abstractmethod
    def exists(self, owner_id: UUID, upload_id: UUID) -> bool: ...

    @abstractmethod
    def discard(self, owner_id: UUID, upload_id: UUID) -> None: ...


class ExportNotFound(NotFound):
    code = "EXPORT_NOT_FOUND"
    title = "Export not found"


class ExportExpired(Gone):
    code = "EXPORT_EXPIRED"
    title = "Export expired"


@dataclass(frozen=True, slots=True)
class StoredExport:
    path: Path
    filename: str
    media_type: str
    bytes: int
    expires_at: datetime


class ExportSink(Protocol):
    """One export file being written, a conversation at a time."""

    @abstractmethod
    def add(self, conversation: Conversation, messages: Sequence[Message]) -> None: ...

    @abstractmethod
    def finish(self) -> StoredExport:
        """Close the file and make it downloadable."""

    @abstractmethod
    def discard(self) -> None:
        """Remove the partial file (the export failed or was cancelled)."""


class ExportStore(Protocol):
    """Export files with an owner and an expiry (under the data directory)."""

    @abstractmethod
    def create(
        self, export_id: UUID, owner_id: UUID, format: str, expires_at: datetime
    ) -> ExportSink: ...

    @abstractmethod
    def locate(self, export_id: UUID, owner_id: UUID, now: datetime) -> StoredExport:
        """``ExportNotFound`` if missing or someone else's; ``ExportExpired`` (and the file is
        deleted) once past its expiry."""

    @abstractmethod
    def remove(self, export_id: UUID) -> None:
        """Forget an export (its file has been handed over elsewhere, e.g. by the CLI)."""

    @abstractmethod
    def purge_expired(self, now: datetime) -> int:
        """Delete every expired export file; how many went."""
