"""A read-only file wrapper that counts bytes, so parsing can report how far it got."""

from __future__ import annotations

import io
from typing import BinaryIO


class CountingReader(io.RawIOBase):
    """Passes reads and seeks through to ``inner``; ``position`` is the furthest byte read."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.position = max(self.position, self._inner.tell())
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self.position = max(self.position, self._inner.tell())
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        self._inner.close()
        super().close()
