"""The error half of the OpenAPI document, written once for every route.

Handlers document their success responses; what can go wrong is the same family
everywhere (one table in ``problems`` maps errors to statuses), so it is added here from
what each route is: public or not, admin only, with a body, with path parameters. Every
error is ``application/problem+json``. Public routes are marked as needing no security.
The /v1 routes document OpenAI's error shape themselves (``openai_docs``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute

from entrypoints.http.openai_docs import COMPLETION_CHUNK
from entrypoints.http.problems import PROBLEM_JSON
from entrypoints.http.rate_limit_guard import EXEMPT_PREFIXES

_DESCRIPTIONS = {
    400: "Invalid input: `VALIDATION_ERROR` (fields in `details`) or a more precise code",
    401: "Missing, invalid, expired or revoked credentials (`UNAUTHENTICATED`, ...)",
    403: "The route needs the admin role (`FORBIDDEN`)",
    404: "No such resource of yours (`NOT_FOUND`, `CONVERSATION_NOT_FOUND`, ...)",
    409: "The change conflicts with the current state (`CONFLICT`, ...)",
    413: "Request body over the configured limit (`PAYLOAD_TOO_LARGE`)",
    429: "Rate limited (`RATE_LIMITED`) or quota used up (`QUOTA_EXCEEDED`); see `Retry-After`",
    503: "A dependency is unavailable (`DATABASE_UNAVAILABLE`, ...) or too many requests or "
    "turns are starting at once (`SERVER_BUSY`); see `Retry-After`",
}
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

EVENT_STREAM = "text/event-stream"
CHAT_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    description=(
        "One event of a reply's stream: `start` {generation_id, conversation_id, "
        "user_message, assistant_message_id}, `delta` {content}, then `done` {message} or "
        "`error` (a problem body). `id` is what `Last-Event-ID` accepts."
    ),
    required=["event", "data"],
    properties={
        "event": Schema(type=OpenAPIType.STRING, enum=["start", "delta", "done", "error"]),
        "data": Schema(type=OpenAPIType.STRING, content_media_type="application/json"),
        "id": Schema(type=OpenAPIType.STRING, pattern="^[0-9]+$"),
    },
)
PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details, as every error of this API is sent.",
    required=["type", "title", "status", "detail", "code", "request_id", "timestamp"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING, description="Stable UPPER_SNAKE code"),
        "request_id": Schema(type=OpenAPIType.STRING),
        "timestamp": Schema(type=OpenAPIType.STRING),
        "details": Schema(one_of=[Schema(type=OpenAPIType.OBJECT), Schema(type=OpenAPIType.NULL)]),
    },
)


async def document_errors(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the schema routes: complete the document on first use (it is
    built lazily, so startup does not pay for it)."""
    complete(request.app)


def complete(app: Litestar) -> OpenAPI:
    openapi = app.openapi_schema
    schemas = openapi.components.schemas if openapi.components.schemas is not None else {}
    if schemas.get("Problem") is PROBLEM_SCHEMA:  # completed already
        return openapi
    openapi.components.schemas = {**schemas, "Problem": PROBLEM_SCHEMA}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not openapi.paths:
            continue
        item = openapi.paths.get(route.path_format)
        if item is None:
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if isinstance(operation, Operation):
                    _complete(operation, route.path_format, method, handler.opt)
                    _optional_body(operation, handler)
                    _declared_body(operation, handler)
                    _event_streams(operation)
                    _event_id_parameters(operation)
    _domain_rules(schemas)
    _zero_bounds(schemas, _body_types(app))
    return openapi


def _complete(operation: Operation, path: str, method: str, opt: dict[str, Any]) -> None:
    public = bool(opt.get("public"))
    if public:
        operation.security = []
    if path.startswith("/v1/"):
        return
    responses = operation.responses if operation.responses is not None else {}
    operation.responses = responses
    has_input = bool(operation.parameters) or operation.request_body is not None
    statuses: set[int] = set()
    if has_input:
        statuses.add(400)
    if not public or path in {"/api/v1/auth/login", "/api/v1/auth/refresh"}:
        statuses.add(401)
    if opt.get("admin"):
        statuses.add(403)
    if (
        "{" in path
        or operation.request_body is not None
        or _has_query(operation, "conversation_id")
    ):
        statuses.add(404)
    if method in _CHANGES and ("{" in path or operation.request_body is not None):
        statuses.add(409)
    if operation.request_body is not None:
        statuses.add(413)
    if not path.startswith(EXEMPT_PREFIXES):
        statuses.add(429)
    if path != "/health/live":
        statuses.add(503)
    for status in sorted(statuses):
        key = str(status)
        existing = responses.get(key)
        if (
            isinstance(existing, OpenAPIResponse)
            and existing.content
            and PROBLEM_JSON in existing.content
        ):
            continue
        responses[key] = OpenAPIResponse(
            description=_DESCRIPTIONS[status],
            content={
                PROBLEM_JSON: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))
            },
        )


UPLOAD_BODY = "openapi_request_body"
"""Handler ``opt`` key: the request body of a route that reads it itself (a streamed upload
has no ``data`` parameter for the schema generator to describe)."""


def multipart_upload(fields: dict[str, Schema | Reference], required: list[str]) -> RequestBody:
    return RequestBody(
        required=True,
        content={
            "multipart/form-data": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    properties=fields,
                    required=required,
                    additional_properties=False,
                )
            )
        },
    )


def _declared_body(operation: Operation, handler: Any) -> None:
    body = handler.opt.get(UPLOAD_BODY)
    if isinstance(body, RequestBody):
        operation.request_body = body


def _optional_body(operation: Operation, handler: Any) -> None:
    """A ``data`` parameter with a default (logout's optional body) is not required."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if isinstance(operation.request_body, RequestBody) and data is not None and data.has_default:
        operation.request_body.required = False


def _event_streams(operation: Operation) -> None:
    """Each Server-Sent Event, as OpenAPI 3.1 tools read ``schema`` of an event stream: an
    object of its fields (``data`` is the JSON text, described by ``contentSchema``)."""
    for response in (operation.responses or {}).values():
        content = response.content if isinstance(response, OpenAPIResponse) else None
        media = (content or {}).get(EVENT_STREAM)
        if media is not None:
            media.schema = CHAT_EVENT if media.schema is not COMPLETION_CHUNK else media.schema


def _event_id_parameters(operation: Operation) -> None:
    """An event id is what the stream sent (a decimal number; empty: from the start)."""
    for parameter in operation.parameters or []:
        if getattr(parameter, "name", None) in ("after", "Last-Event-ID"):
            schema = getattr(parameter, "schema", None)
            if isinstance(schema, Schema):
                schema.pattern = "^[0-9]{0,18}$"


def _domain_rules(schemas: dict[str, Any]) -> None:
    """Rules the domain enforces (with its own codes) that the request bodies' types do not
    carry, documented where the client sees them."""
    for name, field in (("RegisterBody", "password"), ("ChangePasswordBody", "new_password")):
        body = schemas.get(name)
        prop = (body.properties or {}).get(field) if isinstance(body, Schema) else None
        if isinstance(prop, Schema):
            prop.min_length, prop.max_length = 8, 128
            prop.description = "8 to 128 characters, not a common password (`WEAK_PASSWORD`)"
    for name, field, code in (
        ("CreateConversationBody", "title", "INVALID_TITLE"),
        ("UpdateConversationBody", "title", "INVALID_TITLE"),
        ("SendMessageBody", "content", "MESSAGE_EMPTY"),
        ("StartTurnBody", "content", "MESSAGE_EMPTY"),
    ):
        body = schemas.get(name)
        prop = (body.properties or {}).get(field) if isinstance(body, Schema) else None
        if isinstance(prop, Schema):
            prop.pattern = r"\S"
            prop.description = f"Not blank (`{code}`)"


def _body_types(app: Litestar) -> list[Any]:
    types = []
    for route in app.routes:
        for handler in route.route_handlers if isinstance(route, HTTPRoute) else ():
            data = handler.parsed_fn_signature.parameters.get("data")
            for kind in (data.annotation, *data.inner_types) if data is not None else ():
                target = getattr(kind, "annotation", kind)
                if isinstance(target, type) and issubclass(target, msgspec.Struct):
                    types.append(target)
    return types


_BOUNDS = {
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
}


_ITEM_RULES = {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"}


def _zero_bounds(schemas: dict[str, Any], types: list[Any]) -> None:
    """What the schema generator drops and msgspec's own schema of the same bodies keeps,
    copied over: numeric bounds of 0 (``temperature >= 0``: skipped as falsy), the string
    rules of list items (``context_sources`` names), and ``additionalProperties: false``
    of bodies that refuse unknown fields."""
    if not types:
        return
    _, components = msgspec.json.schema_components(types)
    for name, component in components.items():
        ours = schemas.get(name)
        if not isinstance(ours, Schema) or not ours.properties:
            continue
        if component.get("additionalProperties") is False:
            ours.additional_properties = False
        for field, spec in component.get("properties", {}).items():
            target = ours.properties.get(field)
            if not isinstance(target, Schema):
                continue
            for variant in [spec, *spec.get("anyOf", [])]:
                for key, attr in _BOUNDS.items():
                    if variant.get(key) == 0 and getattr(target, attr) is None:
                        setattr(target, attr, 0.0)
                items = variant.get("items")
                if isinstance(items, dict) and isinstance(target.items, Schema):
                    for key, attr in _ITEM_RULES.items():
                        if key in items and getattr(target.items, attr) is None:
                            setattr(target.items, attr, items[key])


def _has_query(operation: Operation, name: str) -> bool:
    return any(getattr(p, "name", None) == name for p in operation.parameters or [])
