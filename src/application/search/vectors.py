"""The one wire format of a vector between ports: float32, little-endian, packed."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence


def pack_vector(values: Sequence[float]) -> bytes:
    packed = array("f", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()
