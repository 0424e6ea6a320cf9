"""The one table that maps errors to RFC 9457 problem+json responses."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import SQLAlchemyError

from adapters.persistence.uow import translate_storage_error
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    UpstreamError,
    UpstreamTimeout,
    kind_of,
)

PROBLEM_JSON = "application/problem+json"

STATUS_BY_KIND: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooManyRequests: 429,
    UpstreamError: 502,
    UpstreamTimeout: 504,
    Unavailable: 503,
}
"""HTTP status of each error family of ``domain.errors.KINDS``."""

CODE_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    410: "GONE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
    504: "UPSTREAM_TIMEOUT",
}

TITLE_BY_STATUS = {
    400: "Invalid input",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

log = structlog.get_logger("parley.http")


def status_for(error: DomainError) -> int:
    return STATUS_BY_KIND.get(kind_of(error), 400)


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    details: Any = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://parley.dev/problems/{code.lower().replace('_', '-')}",
        "title": title or TITLE_BY_STATUS.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id or "",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    if details is not None:
        body["details"] = details
    return body


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _request_id(request: Request[Any, Any, Any]) -> str:
    return str(structlog.contextvars.get_contextvars().get("request_id", ""))


def rate_limit_headers(error: TooManyRequests) -> dict[str, str]:
    headers = {"Retry-After": str(max(1, math.ceil(error.retry_after_s)))}
    if error.limit is not None:
        headers["RateLimit-Limit"] = str(error.limit)
        headers["RateLimit-Remaining"] = str(max(0, error.remaining))
        headers["RateLimit-Reset"] = str(max(1, math.ceil(error.reset_s)))
    return headers


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = status_for(exc)
    headers = rate_limit_headers(exc) if isinstance(exc, TooManyRequests) else None
    if isinstance(exc, Unavailable):
        headers = {"Retry-After": "2"}
        # One line per refusal, with what failed underneath (a pool that stayed full, a
        # timeout, a refused connection), so refusals under load are visible.
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else None
        log.warning("dependency_unavailable", code=exc.code, path=request.url.path, cause=cause)
    body = problem_body(
        status,
        exc.code,
        exc.detail,
        title=exc.title,
        details=exc.details,
        request_id=_request_id(request),
    )
    return problem_response(status, body, headers)


def handle_validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    details = {"fields": _field_errors(exc.extra)}
    body = problem_body(
        400,
        "VALIDATION_ERROR",
        "the request is invalid; see details",
        details=details,
        request_id=_request_id(request),
    )
    return problem_response(400, body)


def _field_errors(extra: Any) -> list[dict[str, Any]]:
    if not isinstance(extra, list):
        return []
    out = []
    for item in extra:
        if isinstance(item, dict):
            out.append(
                {
                    "field": str(item.get("key") or item.get("source") or "body"),
                    "message": str(item.get("message", "invalid value")),
                }
            )
    return out


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = CODE_BY_STATUS.get(status, "HTTP_ERROR")
    detail = exc.detail if status < 500 else TITLE_BY_STATUS.get(status, "Error")
    if status == 400 and detail == "Bad Request":
        detail = "the request could not be parsed"
    headers = dict(exc.headers or {})
    body = problem_body(status, code, str(detail), request_id=_request_id(request))
    return problem_response(status, body, headers or None)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # A storage failure that escaped a unit of work (a driver error raised outside one) is
    # still an outage or a conflict, never a 500.
    translated = translate_storage_error(exc) if isinstance(exc, SQLAlchemyError) else None
    if isinstance(translated, DomainError):
        return handle_domain_error(request, translated)
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    body = problem_body(
        500,
        "INTERNAL_ERROR",
        "an unexpected error occurred; it has been logged",
        request_id=_request_id(request),
    )
    return problem_response(500, body)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "problem_body", "status_for"]
