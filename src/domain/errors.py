"""Domain errors: each carries a stable machine-readable ``code``.

The kind of error (its base class) decides how a transport reports it; the HTTP entrypoint
keeps the one table that maps kinds to status codes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every expected failure; ``code`` is stable UPPER_SNAKE for clients."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str = "", *, details: dict[str, Any] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.details = details


class InvalidInput(DomainError):
    code = "VALIDATION_ERROR"
    title = "Invalid input"


class NotFound(DomainError):
    code = "NOT_FOUND"
    title = "Not found"


class Conflict(DomainError):
    code = "CONFLICT"
    title = "Conflict"


class Gone(DomainError):
    """It existed but has expired for good (an export past its download window)."""

    code = "GONE"
    title = "Gone"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    title = "Authentication required"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    title = "Forbidden"


class TooManyRequests(DomainError):
    code = "RATE_LIMITED"
    title = "Too many requests"

    def __init__(
        self,
        detail: str = "",
        *,
        retry_after_s: float = 1.0,
        limit: int | None = None,
        remaining: int = 0,
        reset_s: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, details=details)
        self.retry_after_s = retry_after_s
        self.limit = limit
        self.remaining = remaining
        self.reset_s = reset_s if reset_s is not None else retry_after_s


class Unavailable(DomainError):
    """A dependency Parley needs for this request is down; retrying later may work."""

    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"


class UpstreamError(DomainError):
    """The LLM provider failed in a way retrying will not fix."""

    code = "UPSTREAM_ERROR"
    title = "Upstream provider error"


class UpstreamTimeout(DomainError):
    """The LLM provider did not answer in time."""

    code = "UPSTREAM_TIMEOUT"
    title = "Upstream provider timed out"


KINDS: tuple[type[DomainError], ...] = (
    InvalidInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    Gone,
    TooManyRequests,
    UpstreamTimeout,
    UpstreamError,
    Unavailable,
)
"""The one list of error families, most specific first. Every transport reports an error
by its family (HTTP status, WebSocket frame, CLI exit code); the generation log stores
the family's name so a reader on any instance can do the same."""


def kind_of(error: DomainError) -> type[DomainError]:
    """The family ``error`` belongs to (``DomainError`` itself if none)."""
    for kind in KINDS:
        if isinstance(error, kind):
            return kind
    return DomainError


def kind_named(name: str) -> type[DomainError] | None:
    """The family of that name (as stored in a log event), None if unknown."""
    for kind in KINDS:
        if kind.__name__ == name:
            return kind
    return None
