"""Request bodies are decoded by Litestar's msgspec hooks; two things they let through are
handled here, where the JSON is read:

- nesting deeper than the decoder's recursion limit raises RecursionError (a 500): such a
  body is malformed input, a 400 like any other unparsable body;
- the framework converts a decoded body to its type leniently (a JSON string ``"true"``
  becomes a boolean, ``"12"`` an integer), so a body of the wrong types was accepted. A
  body is first checked strictly against the type its handler declares: wrong JSON types
  are a 400 VALIDATION_ERROR, as the OpenAPI schema says.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import msgspec
from litestar import Litestar, Request
from litestar.exceptions import ValidationException

from domain.errors import InvalidInput

_UNKNOWN = object()


class JsonTooDeep(InvalidInput):
    title = "JSON nested too deeply"


STRICT_BODY = "strict_body"
"""Handler ``opt`` key: the body type checked strictly (None: no check), set once per
handler by ``register_strict_bodies`` when the app is built."""


def register_strict_bodies(app: Litestar) -> None:
    """Resolve, once per process, the strict body type of every route handler."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            handler.opt[STRICT_BODY] = _strict_type(handler)


def _strict_type(handler: Any) -> Any:
    """The body type to check strictly: the handler's ``data`` annotation, when it is a
    msgspec Struct (or an optional one); None otherwise (raw dicts, no body)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    annotation = data.annotation if data is not None else None
    union = get_origin(annotation) in (Union, types.UnionType)
    members = get_args(annotation) if union else (annotation,)
    is_struct = any(isinstance(m, type) and issubclass(m, msgspec.Struct) for m in members)
    return annotation if is_struct else None


def _integral(value: Any) -> Any:
    """JSON has one number type: ``3.0`` is a valid integer (JSON Schema agrees), which a
    strict check must accept like ``3``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


class ParleyRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            raise JsonTooDeep(
                "the JSON body is nested too deeply",
                details={"fields": [{"field": "body", "message": "nested too deeply"}]},
            ) from None
        handler = self.route_handler
        kind = handler.opt.get(STRICT_BODY, _UNKNOWN)
        if kind is _UNKNOWN:  # a handler of an app not built by create_app
            kind = handler.opt[STRICT_BODY] = _strict_type(handler)
        if kind is not None:
            try:
                msgspec.convert(_integral(value), type=kind, strict=True, str_keys=True)
            except msgspec.ValidationError as exc:
                message, _, where = str(exc).partition(" - at ")
                key = where.strip("`").removeprefix("$.") or "body"
                raise ValidationException(
                    "the request is invalid; see details",
                    extra=[{"key": key, "message": message, "source": "body"}],
                ) from None
        return value
