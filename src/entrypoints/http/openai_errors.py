"""Errors on the /v1 surface in OpenAI's shape, so OpenAI clients raise their own types.

Same kind -> status table as the rest of the API (``problems.status_for``); only the body
differs: ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from domain.errors import DomainError, TooManyRequests, Unavailable
from entrypoints.http.problems import rate_limit_headers, status_for

log = structlog.get_logger("parley.http.v1")

TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "api_error",
    503: "api_error",
    504: "timeout",
}

CODE_BY_DOMAIN_CODE = {
    "RATE_LIMITED": "rate_limit_exceeded",
    "QUOTA_EXCEEDED": "insufficient_quota",
    "UNAUTHENTICATED": "invalid_api_key",
    "TOKEN_INVALID": "invalid_api_key",
    "CONTEXT_WINDOW_EXCEEDED": "context_length_exceeded",
}


class OpenAIErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(msgspec.Struct):
    """The error body every /v1 route returns on failure."""

    error: OpenAIErrorDetail


def error_body(status: int, message: str, code: str | None, param: str | None = None) -> bytes:
    detail = OpenAIErrorDetail(message, TYPE_BY_STATUS.get(status, "api_error"), param, code)
    return msgspec.json.encode(OpenAIError(detail))


def error_response(
    status: int, message: str, code: str | None, param: str | None = None, headers: Any = None
) -> Response[bytes]:
    return Response(
        error_body(status, message, code, param),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def openai_code(error: DomainError) -> str:
    return CODE_BY_DOMAIN_CODE.get(error.code, error.code.lower())


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status = status_for(exc)
    headers: dict[str, str] | None = None
    if isinstance(exc, TooManyRequests):
        headers = rate_limit_headers(exc)
    elif isinstance(exc, Unavailable):
        headers = {"Retry-After": "2"}
    if status >= 500:
        log.warning("v1_upstream_failure", code=exc.code, path=request.url.path)
    param = exc.details.get("param") if isinstance(exc.details, dict) else None
    return error_response(status, exc.detail, openai_code(exc), param, headers)


def handle_validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[bytes]:
    param = None
    message = "the request body is invalid"
    if isinstance(exc.extra, list) and exc.extra and isinstance(exc.extra[0], dict):
        first = exc.extra[0]
        param = str(first.get("key") or "") or None
        message = f"invalid request: {first.get('message', 'invalid value')}"
    return error_response(400, message, "invalid_request", param)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    message = str(exc.detail) if status < 500 else "internal error"
    code = {413: "request_too_large", 404: "not_found", 405: "method_not_allowed"}.get(status)
    return error_response(status, message, code, headers=exc.headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return error_response(500, "an unexpected error occurred; it has been logged", "internal_error")


OPENAI_EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
