"""Reading job params: each bad field is a VALIDATION_ERROR naming ``params.<field>``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.users import field_error


def only(params: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise field_error(f"params.{unknown[0]}", "unknown parameter")


def uuid_param(params: Mapping[str, Any], name: str) -> UUID:
    raw = params.get(name)
    if not isinstance(raw, str):
        raise field_error(f"params.{name}", "required: a conversation id")
    try:
        return UUID(raw)
    except ValueError:
        raise field_error(f"params.{name}", "not a valid id") from None


def text_param(params: Mapping[str, Any], name: str, *, max_chars: int) -> str:
    raw = params.get(name)
    if not isinstance(raw, str) or not raw.strip():
        raise field_error(f"params.{name}", "required: a non-empty string")
    text = " ".join(raw.split())
    if len(text) > max_chars:
        raise field_error(f"params.{name}", f"at most {max_chars} characters")
    return text


def int_param(params: Mapping[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    raw = params.get(name, default)
    if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
        raise field_error(f"params.{name}", f"an integer from {low} to {high}")
    return raw
