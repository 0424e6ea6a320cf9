from __future__ import annotations

import os
import time
from uuid import UUID

from application.ports.ids import IdGenerator


def uuid7() -> UUID:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, version and variant bits, 74 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return UUID(int=value)


class UUID7Generator(IdGenerator):
    def new_id(self) -> UUID:
        return uuid7()
