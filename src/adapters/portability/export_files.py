"""Export files under ``<data_dir>/exports``: the file, and beside it who owns it and until when.

A file is written as ``<id>.part`` and renamed when complete, so a download never sees half a
file. File names are made from the export id only: nothing a user sent becomes a path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from uuid import UUID

import msgspec

from adapters.portability.markdown_format import MarkdownWriter
from adapters.portability.parley_format import ParleyWriter
from application.ports.portability import (
    ExportExpired,
    ExportNotFound,
    ExportSink,
    ExportStore,
    StoredExport,
)
from domain.conversations import Conversation
from domain.messages import Message

MEDIA = {"parley": ("application/json", "json"), "markdown": ("application/zip", "zip")}


class _Meta(msgspec.Struct):
    owner_id: UUID
    expires_at: datetime
    format: str
    filename: str
    media_type: str


class FileExportSink(ExportSink):
    def __init__(self, path: Path, meta: _Meta, exported_at: datetime) -> None:
        self._final = path
        self._part = path.with_suffix(".part")
        self._meta = meta
        self._out: BinaryIO = self._part.open("wb")
        self._writer: ParleyWriter | MarkdownWriter = (
            ParleyWriter(self._out, exported_at)
            if meta.format == "parley"
            else MarkdownWriter(self._out)
        )

    def add(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        self._writer.add(conversation, messages)

    def finish(self) -> StoredExport:
        self._writer.close()
        self._out.close()
        _meta_path(self._final).write_bytes(msgspec.json.encode(self._meta))
        self._part.rename(self._final)
        return _stored(self._final, self._meta)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        self._part.unlink(missing_ok=True)


class FileExportStore(ExportStore):
    def __init__(self, directory: Path) -> None:
        self._dir = directory

    def create(
        self, export_id: UUID, owner_id: UUID, format: str, expires_at: datetime
    ) -> ExportSink:
        media_type, extension = MEDIA[format]
        self._dir.mkdir(parents=True, exist_ok=True)
        filename = f"parley-export-{export_id.hex[:12]}.{extension}"
        meta = _Meta(owner_id, expires_at, format, filename, media_type)
        return FileExportSink(self._path(export_id), meta, datetime.now(expires_at.tzinfo))

    def locate(self, export_id: UUID, owner_id: UUID, now: datetime) -> StoredExport:
        path = self._path(export_id)
        meta = _read_meta(path)
        if meta is None or meta.owner_id != owner_id or not path.is_file():
            raise ExportNotFound(f"export {export_id} not found")
        if meta.expires_at <= now:
            _remove(path)
            raise ExportExpired(f"export {export_id} expired at {meta.expires_at.isoformat()}")
        return _stored(path, meta)

    def remove(self, export_id: UUID) -> None:
        _remove(self._path(export_id))

    def purge_expired(self, now: datetime) -> int:
        if not self._dir.is_dir():
            return 0
        purged = 0
        for meta_path in self._dir.glob("*.meta.json"):
            path = meta_path.with_name(meta_path.name.removesuffix(".meta.json"))
            meta = _read_meta(path)
            if meta is None or meta.expires_at <= now:
                _remove(path)
                purged += 1
        return purged

    def _path(self, export_id: UUID) -> Path:
        return self._dir / export_id.hex


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _read_meta(path: Path) -> _Meta | None:
    try:
        return msgspec.json.decode(_meta_path(path).read_bytes(), type=_Meta)
    except (OSError, msgspec.DecodeError):
        return None


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    _meta_path(path).unlink(missing_ok=True)


def _stored(path: Path, meta: _Meta) -> StoredExport:
    return StoredExport(
        path=path,
        filename=meta.filename,
        media_type=meta.media_type,
        bytes=path.stat().st_size,
        expires_at=meta.expires_at,
    )
