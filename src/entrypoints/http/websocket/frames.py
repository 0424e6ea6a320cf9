"""The /api/v1/ws wire format: client frames in, server frames out, all JSON text.

Client frames are a msgspec tagged union on ``type``. Decoding is two steps so every bad
frame gets a precise error code, and an error can still name the frame's ``request_id``:
first a tolerant envelope (``type`` and ``request_id`` only), then the full frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from domain.errors import DomainError, InvalidInput
from domain.text import NUL, ContainsNul

RequestId = Annotated[str, Meta(min_length=1, max_length=128)] | int
Token = Annotated[str, Meta(min_length=1, max_length=4096)]


class AuthFrame(Struct, tag="auth", tag_field="type"):
    token: Token


class ChatFrame(Struct, tag="chat", tag_field="type"):
    request_id: RequestId
    content: str
    conversation_id: UUID | None = None
    model: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, Meta(ge=1)] | None = None


class CancelFrame(Struct, tag="cancel", tag_field="type"):
    request_id: RequestId


class ResumeFrame(Struct, tag="resume", tag_field="type"):
    generation_id: UUID
    after: Annotated[str, Meta(max_length=20)] | None = None
    request_id: RequestId | None = None
    """Tags the resumed stream's frames; default: the generation id."""


class PingFrame(Struct, tag="ping", tag_field="type"):
    request_id: RequestId | None = None


ClientFrame = AuthFrame | ChatFrame | CancelFrame | ResumeFrame | PingFrame


class _Envelope(Struct):
    type: Any = None
    request_id: Any = None


class InvalidJson(InvalidInput):
    code = "INVALID_JSON"
    title = "Invalid JSON"


class InvalidFrame(InvalidInput):
    code = "INVALID_FRAME"
    title = "Invalid frame"


class MissingType(InvalidInput):
    code = "MISSING_TYPE"
    title = "Frame without a type"


class UnknownType(InvalidInput):
    code = "UNKNOWN_TYPE"
    title = "Unknown frame type"


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    msgspec.inspect.type_info(kind).tag: msgspec.json.Decoder(kind)  # type: ignore[attr-defined]
    for kind in (AuthFrame, ChatFrame, CancelFrame, ResumeFrame, PingFrame)
}
KNOWN_TYPES = tuple(sorted(_DECODERS))


@dataclass(frozen=True, slots=True)
class Decoded:
    """Either a frame, or the error to answer with (and the request id it should carry)."""

    frame: ClientFrame | None
    error: DomainError | None = None
    request_id: str | int | None = None


def decode_frame(raw: str | bytes) -> Decoded:
    try:
        envelope = _ENVELOPE.decode(raw)
    except msgspec.ValidationError:  # a subclass of DecodeError: valid JSON, wrong shape
        return Decoded(None, InvalidFrame("a frame is a JSON object with a `type` field"))
    except msgspec.DecodeError:
        return Decoded(None, InvalidJson("the frame is not valid JSON"))
    except RecursionError:  # nested deeper than the decoder's limit: malformed, not a crash
        return Decoded(None, InvalidJson("the frame is nested too deeply"))
    request_id = _echoable(envelope.request_id)
    kind = envelope.type
    if kind is None:
        return Decoded(None, MissingType("the frame has no `type` field"), request_id)
    decoder = _DECODERS.get(kind) if isinstance(kind, str) else None
    if decoder is None:
        detail = f"unknown frame type; expected one of {', '.join(KNOWN_TYPES)}"
        return Decoded(None, UnknownType(detail), request_id)
    try:
        frame = decoder.decode(raw)
    except msgspec.ValidationError as exc:
        return Decoded(None, _validation_error(exc), request_id)
    except RecursionError:
        return Decoded(None, InvalidJson("the frame is nested too deeply"), request_id)
    if isinstance(frame, ChatFrame) and NUL in frame.content:
        return Decoded(None, ContainsNul("content must not contain U+0000"), request_id)
    return Decoded(frame, None, request_id)


def _echoable(value: Any) -> str | int | None:
    """Only a well-formed request id is echoed back; anything else is dropped."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and 0 < len(value) <= 128):
        return value
    return None


def _validation_error(exc: msgspec.ValidationError) -> InvalidInput:
    message = str(exc)
    field = "frame"
    if "`$." in message:
        field = message.rsplit("`$.", 1)[1].rstrip("`").split("[")[0]
    elif "missing required field `" in message:
        field = message.split("`")[1]
    return InvalidInput(
        "the frame is invalid; see details",
        details={"field": field, "message": message.split(" - at ")[0]},
    )
