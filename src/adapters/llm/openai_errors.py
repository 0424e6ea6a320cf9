"""Translate openai SDK and transport errors into the LLM port's errors."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from contextlib import contextmanager

import openai
import structlog

from application.llm.errors import ProviderRejected
from application.ports.llm import (
    ProviderBadRequest,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.errors import DomainError

log = structlog.get_logger("parley.llm.openai")

_MAX_DETAIL = 300


@contextmanager
def translate_errors(provider: str) -> Iterator[None]:
    """Every failure leaves as a port error; the upstream's own words are truncated and
    never include our key (the SDK never echoes it)."""
    try:
        yield
    except DomainError:
        raise
    except openai.APIStatusError as exc:
        raise _from_status(provider, exc) from None
    except openai.APITimeoutError:
        raise ProviderTimeout(f"provider {provider!r} timed out") from None
    except openai.APIConnectionError:
        raise ProviderUnavailable(f"provider {provider!r} is unreachable") from None
    except Exception as exc:
        # Errors while reading the body come from the SDK's transport (httpx or httpx2):
        # matched by class name so the adapter does not depend on which one it is.
        names = {k.__name__ for k in type(exc).__mro__}
        if names & {"TimeoutException", "TimeoutError"}:
            raise ProviderTimeout(f"provider {provider!r} timed out") from None
        if "ConnectError" in names:
            raise ProviderUnavailable(f"provider {provider!r} is unreachable") from None
        log.warning("llm_transport_error", provider=provider, error_type=type(exc).__name__)
        raise ProviderUnavailable(f"provider {provider!r} failed ({type(exc).__name__})") from None


def _from_status(provider: str, exc: openai.APIStatusError) -> DomainError:
    return status_error(provider, exc.status_code, _message(exc), exc.response.headers)


def status_error(provider: str, status: int, message: str, headers: object) -> DomainError:
    """The port error for an upstream's error status (``headers``: anything with ``get``)."""
    detail = f"provider {provider!r} answered {status}: {message[:_MAX_DETAIL]}"
    if status == 429:
        return ProviderRateLimited(detail, retry_after_s=retry_after_s(headers))
    if status in (408, 504):
        return ProviderTimeout(detail)
    if status >= 500 or status == 409:
        return ProviderUnavailable(detail)
    if status in (401, 403, 404):
        log.warning("llm_provider_rejected", provider=provider, status=status)
        return ProviderRejected(detail)
    return ProviderBadRequest(detail)


def _message(exc: openai.APIStatusError) -> str:
    return error_message(exc.body) or exc.response.reason_phrase or "error"


def error_message(body: object) -> str:
    """The upstream's own words from an OpenAI-style error body (``{"error": {...}}``)."""
    if not isinstance(body, dict):
        return ""
    inner = body.get("error", body)
    text = str(inner.get("message", "")) if isinstance(inner, dict) else str(inner)
    return text[:_MAX_DETAIL]


def retry_after_s(headers: object, default: float = 1.0) -> float:
    """Seconds from ``retry-after-ms``, or ``retry-after`` (seconds or an HTTP date)."""
    get = getattr(headers, "get", None)
    if get is None:
        return default
    raw_ms = get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = get("retry-after")
    if not raw:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return default
