"""Every import format behind one door: sniff the file, unpack a zip safely, parse as a stream.

Parsing is incremental (ijson, C backend): only one conversation object is decoded at a
time, so memory stays flat however large the export is.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, BinaryIO

import ijson

from adapters.portability import chatgpt, claude, openwebui, parley_format
from adapters.portability.archive import ArchiveLimits, entry_stream, is_zip, members, open_checked
from adapters.portability.counting import CountingReader
from application.ports.portability import ConversationSources, ImportReading
from domain.imports import ImportEntry, ImportFormat, ImportUnsupported, UnreadableEntry

Translate = Callable[[Any], ImportEntry]
TRANSLATORS: dict[ImportFormat, Translate] = {
    ImportFormat.PARLEY: parley_format.translate,
    ImportFormat.CHATGPT: chatgpt.translate,
    ImportFormat.CLAUDE: claude.translate,
    ImportFormat.OPENWEBUI: openwebui.translate,
}
PREFIX = {ImportFormat.PARLEY: "conversations.item"}
DECISIVE_KEYS = {
    "mapping": ImportFormat.CHATGPT,
    "chat_messages": ImportFormat.CLAUDE,
    "chat": ImportFormat.OPENWEBUI,
    "history": ImportFormat.OPENWEBUI,
}
SNIFF_EVENTS = 20_000
JSON_ENTRIES = re.compile(r"conversations(-\d+)?\.json")


class FileConversationSources(ConversationSources):
    def __init__(self, limits: ArchiveLimits | None = None) -> None:
        self._limits = limits or ArchiveLimits()

    def open(self, path: Path, format: ImportFormat) -> ImportReading:
        raw = path.open("rb")
        try:
            return self._open(raw, path.stat().st_size, format)
        except BaseException:
            raw.close()
            raise

    def _open(self, raw: BinaryIO, size: int, format: ImportFormat) -> ImportReading:
        counted = CountingReader(raw)
        head = raw.read(4)
        raw.seek(0)
        if is_zip(head):
            archive = open_checked(counted, self._limits)  # type: ignore[arg-type]
            entries = members(archive, JSON_ENTRIES)
            if not entries:
                archive.close()
                raise ImportUnsupported("the zip holds no conversations.json")
            with entry_stream(archive, entries[0]) as first:
                chosen = format if format is not ImportFormat.AUTO else sniff(first)
            return ZipReading(archive, entries, chosen, counted, size)
        chosen = format if format is not ImportFormat.AUTO else sniff(counted)  # type: ignore[arg-type]
        raw.seek(0)
        counted.position = 0
        return JsonReading(counted, chosen, size)


def sniff(stream: IO[bytes]) -> ImportFormat:
    """Tell the format from the first keys of the document (or of its first entry)."""
    try:
        events = ijson.parse(stream)
        for count, (prefix, event, value) in enumerate(events):
            if count > SNIFF_EVENTS:
                break
            if prefix == "" and event == "start_array":
                continue
            if prefix == "" and event == "start_map":
                return _sniff_document(events)
            if prefix == "" and event == "end_array":
                return ImportFormat.CHATGPT  # an empty list: any list reader yields nothing
            if prefix == "item" and event == "map_key" and value in DECISIVE_KEYS:
                return DECISIVE_KEYS[value]
            if prefix == "" or (prefix == "item" and event not in {"map_key", "start_map"}):
                break
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise ImportUnsupported(f"the file is not JSON: {exc}") from None
    raise ImportUnsupported("the file is not an export Parley can read")


def _sniff_document(events: Iterator[tuple[str, str, Any]]) -> ImportFormat:
    for count, (prefix, _event, value) in enumerate(events):
        if count > SNIFF_EVENTS:
            break
        if prefix == "format" and value == parley_format.FORMAT:
            return ImportFormat.PARLEY
    raise ImportUnsupported("the file is not an export Parley can read")


class JsonReading(ImportReading):
    def __init__(self, stream: CountingReader, format: ImportFormat, size: int) -> None:
        self._stream = stream
        self._format = format
        self._size = max(size, 1)

    def __iter__(self) -> Iterator[ImportEntry]:
        with self._stream:
            yield from _entries(self._stream, self._format)  # type: ignore[arg-type]

    def fraction_read(self) -> float:
        return min(1.0, self._stream.position / self._size)


class ZipReading(ImportReading):
    def __init__(
        self,
        archive: zipfile.ZipFile,
        entries: list[zipfile.ZipInfo],
        format: ImportFormat,
        counted: CountingReader,
        size: int,
    ) -> None:
        self._archive = archive
        self._entries = entries
        self._format = format
        self._counted = counted
        self._size = max(size, 1)

    def __iter__(self) -> Iterator[ImportEntry]:
        with ExitStack() as stack:
            stack.callback(self._counted.close)
            stack.enter_context(self._archive)
            for info in self._entries:
                with entry_stream(self._archive, info) as stream:
                    yield from _entries(stream, self._format)

    def fraction_read(self) -> float:
        return min(1.0, self._counted.position / self._size)


def _entries(stream: IO[bytes], format: ImportFormat) -> Iterator[ImportEntry]:
    translate = TRANSLATORS[format]
    read = 0
    try:
        for raw in ijson.items(stream, PREFIX.get(format, "item"), use_float=True):
            read += 1
            yield translate(raw)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        # The rest of the file cannot be parsed; what came before still counts.
        yield UnreadableEntry("", None, f"the file is not valid JSON after entry {read}: {exc}")
