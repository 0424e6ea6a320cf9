"""Zip uploads are hostile until shown otherwise.

The archive is read in place: entries are streamed out of the zip one at a time and their
names are only ever compared, never joined to a path, so nothing touches the filesystem.
Before anything is read the whole central directory is checked against three bounds
(entry count, total unpacked size, compression ratio) and for names that try to escape.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, BinaryIO

from domain.imports import ImportRefused

ZIP_MAGIC = b"PK\x03\x04"
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    max_entries: int = 10_000
    max_total_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0
    """Unpacked size over packed size of any one entry (and of the whole archive)."""


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


def open_checked(file: BinaryIO, limits: ArchiveLimits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportRefused(f"the zip archive cannot be read: {exc}") from None
    try:
        check(archive.infolist(), limits)
    except ImportRefused:
        archive.close()
        raise
    return archive


def check(entries: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    if len(entries) > limits.max_entries:
        raise ImportRefused(
            f"the archive has {len(entries)} entries; at most {limits.max_entries} are accepted"
        )
    total = packed = 0
    for info in entries:
        if _escapes(info.filename):
            raise ImportRefused(f"the archive has an unsafe entry name: {info.filename!r}")
        total += info.file_size
        packed += info.compress_size
        if (
            info.file_size > limits.max_ratio * max(info.compress_size, 1)
            and info.file_size > 1024**2
        ):
            raise ImportRefused(
                f"entry {info.filename!r} unpacks {info.file_size // max(info.compress_size, 1)}x; "
                f"more than {limits.max_ratio:g}x looks like a zip bomb"
            )
    if total > limits.max_total_bytes:
        raise ImportRefused(
            f"the archive unpacks to {total} bytes; at most {limits.max_total_bytes} are accepted"
        )
    if total > limits.max_ratio * max(packed, 1) and total > 1024**2:
        raise ImportRefused("the archive's compression ratio looks like a zip bomb")


def _escapes(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (
        name.startswith(("/", "\\")) or bool(_DRIVE.match(name)) or ".." in parts or "\x00" in name
    )


def members(archive: zipfile.ZipFile, pattern: re.Pattern[str]) -> list[zipfile.ZipInfo]:
    """Entries whose base name matches, in name order (split exports: -000, -001, ...)."""
    found = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and pattern.fullmatch(info.filename.replace("\\", "/").rsplit("/", 1)[-1])
    ]
    if not found:
        return []
    shallowest = min(info.filename.count("/") for info in found)
    return sorted(
        (info for info in found if info.filename.count("/") == shallowest),
        key=lambda info: info.filename,
    )


@contextmanager
def entry_stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[IO[bytes]]:
    """Stream one entry; ``zipfile`` stops at the declared size and checks its CRC, so a
    header that lies about the size cannot make it unpack more."""
    try:
        with archive.open(info) as stream:
            yield stream
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise ImportRefused(f"entry {info.filename!r} cannot be unpacked: {exc}") from None
