"""OpenAI chat-completion wire format, decoded with msgspec and bounded in size.

The upstream is untrusted: a line longer than ``max_line_bytes``, invalid JSON or a reply
beyond ``max_chars`` becomes ``ProviderProtocolError``, never a crash or unbounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from application.ports.llm import ProviderProtocolError


class WireUsage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class WireMessage(msgspec.Struct):
    content: str | None = None


class WireChoice(msgspec.Struct):
    message: WireMessage | None = None
    delta: WireMessage | None = None
    finish_reason: str | None = None


class WireError(msgspec.Struct):
    message: str = ""


class WireCompletion(msgspec.Struct):
    choices: list[WireChoice] = msgspec.field(default_factory=list)
    usage: WireUsage | None = None
    error: WireError | None = None


_decode = msgspec.json.Decoder(WireCompletion).decode


def decode_completion(payload: bytes) -> WireCompletion:
    try:
        return _decode(payload)
    except msgspec.DecodeError:
        raise ProviderProtocolError("the provider sent invalid JSON") from None


class SSELines:
    """Splits a byte stream into ``data:`` payloads without ever holding more than one
    bounded line; comment, ``event:`` and ``id:`` lines are skipped."""

    def __init__(self, max_line_bytes: int) -> None:
        self._buffer = bytearray()
        self._max = max_line_bytes

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buffer += data
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end < 0:
                break
            line = bytes(self._buffer[start:end]).rstrip(b"\r")
            start = end + 1
            if line.startswith(b"data:"):
                yield line[5:].lstrip(b" ")
        del self._buffer[:start]
        if len(self._buffer) > self._max:
            raise ProviderProtocolError("the provider sent an oversized stream line")
