"""Decoding client frames: every bad frame gets a precise code, good ones a typed frame."""

from __future__ import annotations

import json
from uuid import UUID

from application.ports.generation_log import GenerationEvent
from domain.errors import TooManyRequests
from entrypoints.http.websocket.frames import (
    AuthFrame,
    CancelFrame,
    ChatFrame,
    PingFrame,
    ResumeFrame,
    decode_frame,
)
from entrypoints.http.websocket.replies import (
    Delta,
    ErrorFrame,
    Pong,
    encode,
    error_frame,
    event_frame,
)

GEN = "0196d1a4-7c1e-7000-8000-000000000001"


def _json(**fields: object) -> str:
    return json.dumps(fields)


def test_a_chat_frame_decodes_with_its_optional_fields() -> None:
    decoded = decode_frame(_json(type="chat", request_id="r1", content="hi", conversation_id=GEN))
    assert decoded.error is None
    assert decoded.frame == ChatFrame(request_id="r1", content="hi", conversation_id=UUID(GEN))


def test_each_known_type_decodes_to_its_frame() -> None:
    assert isinstance(decode_frame('{"type":"auth","token":"t"}').frame, AuthFrame)
    assert isinstance(decode_frame('{"type":"cancel","request_id":7}').frame, CancelFrame)
    assert isinstance(decode_frame('{"type":"ping"}').frame, PingFrame)
    resume = decode_frame(_json(type="resume", generation_id=GEN, after="3")).frame
    assert resume == ResumeFrame(generation_id=UUID(GEN), after="3")


def test_invalid_json_is_reported_as_invalid_json() -> None:
    decoded = decode_frame('{"type": "chat", ')
    assert decoded.frame is None
    assert decoded.error is not None and decoded.error.code == "INVALID_JSON"


def test_a_frame_nested_deeper_than_the_decoder_allows_is_invalid_json() -> None:
    deep = '{"type": "chat", "request_id": "r9", "content": ' + "[" * 50_000 + "]" * 50_000 + "}"
    decoded = decode_frame(deep)
    assert decoded.error is not None and decoded.error.code == "INVALID_JSON"


def test_a_chat_frame_with_a_nul_character_is_refused_with_its_request_id() -> None:
    decoded = decode_frame(_json(type="chat", request_id="r2", content="a\x00b"))
    assert decoded.frame is None
    assert decoded.error is not None and decoded.error.code == "VALIDATION_ERROR"
    assert decoded.request_id == "r2"


def test_a_frame_that_is_not_an_object_is_an_invalid_frame() -> None:
    decoded = decode_frame("[1, 2]")
    assert decoded.error is not None and decoded.error.code == "INVALID_FRAME"


def test_a_frame_without_type_is_reported_and_keeps_its_request_id() -> None:
    decoded = decode_frame('{"request_id": "abc", "content": "x"}')
    assert decoded.error is not None and decoded.error.code == "MISSING_TYPE"
    assert decoded.request_id == "abc"


def test_an_unknown_type_names_the_known_ones() -> None:
    decoded = decode_frame('{"type": "shout", "request_id": 5}')
    assert decoded.error is not None and decoded.error.code == "UNKNOWN_TYPE"
    assert "chat" in decoded.error.detail and "resume" in decoded.error.detail
    assert decoded.request_id == 5


def test_a_bad_field_is_a_validation_error_naming_the_field() -> None:
    decoded = decode_frame('{"type": "chat", "request_id": "r", "content": 3}')
    assert decoded.error is not None and decoded.error.code == "VALIDATION_ERROR"
    assert decoded.error.details is not None and decoded.error.details["field"] == "content"


def test_a_missing_required_field_is_named() -> None:
    decoded = decode_frame('{"type": "chat", "request_id": "r"}')
    assert decoded.error is not None and decoded.error.details == {
        "field": "content",
        "message": "Object missing required field `content`",
    }


def test_an_oversized_request_id_is_refused_and_not_echoed() -> None:
    long_id = "x" * 500
    decoded = decode_frame(_json(type="cancel", request_id=long_id))
    assert decoded.error is not None and decoded.error.code == "VALIDATION_ERROR"
    assert decoded.request_id is None


def test_server_frames_are_tagged_json_text() -> None:
    text = encode(Pong(timestamp="2026-01-01T00:00:00Z"))
    assert text == '{"type":"pong","timestamp":"2026-01-01T00:00:00Z"}'


def test_a_delta_event_becomes_a_delta_frame_with_its_ids() -> None:
    frame = event_frame(GenerationEvent("delta", {"content": "he"}, "4"), "r1", GEN)
    assert frame == Delta(request_id="r1", content="he", generation_id=GEN, event_id="4")


def test_a_generation_error_event_keeps_its_code_and_stored_message() -> None:
    data = {"code": "UPSTREAM_ERROR", "title": "t", "detail": "d", "message": {"id": "m"}}
    frame = event_frame(GenerationEvent("error", data, "9"), "r1", GEN)
    assert isinstance(frame, ErrorFrame)
    assert (frame.code, frame.event_id, frame.message) == ("UPSTREAM_ERROR", "9", {"id": "m"})


def test_a_rate_limit_error_frame_says_when_to_retry() -> None:
    frame = error_frame(TooManyRequests("slow down", retry_after_s=2.5), "r9")
    assert '"retry_after_s":2.5' in encode(frame)
    assert '"code":"RATE_LIMITED"' in encode(frame)
