"""Pure-ASGI middleware: request id, client IP, security headers, one access-log line.

Written as raw ASGI (not a Litestar middleware class) because it runs on every request,
including streaming ones, and must add nothing measurable to the hot path.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_PAGES = ("/docs", "/schema")

log = structlog.get_logger("parley.access")


class TrustedProxies:
    """Decides the client address: X-Forwarded-For is believed only from configured peers."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._networks = [ipaddress.ip_network(e, strict=False) for e in entries]

    def client_ip(self, peer: str, forwarded_for: str | None) -> str:
        if not self._networks or not forwarded_for or not self._trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        # Walk from the nearest hop back; the first untrusted address is the client.
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._networks)


class RequestContextMiddleware:
    """Binds a request id (echoing a sane client one), resolves the client IP, adds headers."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies, hsts: bool = False) -> None:
        self.app = app
        self.proxies = proxies
        # Built once: what every response gets, pages (docs, schema, root) and the API.
        hsts_header = [(b"strict-transport-security", b"max-age=31536000")] if hsts else []
        self._page_headers = [*_SECURITY_HEADERS, *hsts_header]
        self._api_headers = [*_SECURITY_HEADERS, _API_CSP, *hsts_header]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id, client_ip = self._bind(scope)
        if scope["type"] == "websocket":  # type: ignore[comparison-overlap]
            # A socket's coroutine lives as long as the socket: keep its frame small (no
            # header mapping, no wrapper: the headers added below are HTTP responses' own).
            try:
                await self.app(scope, receive, send)
            finally:
                structlog.contextvars.unbind_contextvars("request_id")
            return
        path = scope.get("path", "")
        started = time.perf_counter()
        status_holder = [0]
        page = path.startswith(_PAGES) or path == "/"
        extra = self._page_headers if page else self._api_headers
        rid = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", []), rid, *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=path,
                status=status_holder[0],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client_ip=client_ip,
            )
            structlog.contextvars.unbind_contextvars("request_id")

    def _bind(self, scope: Scope) -> tuple[str, str]:
        """The request id (the client's if sane) and client IP, stored in the scope's state
        and bound for the logs."""
        incoming, forwarded_for = _request_headers(scope)
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        peer = (scope.get("client") or ("unknown", 0))[0]
        client_ip = self.proxies.client_ip(peer, forwarded_for)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = client_ip
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return request_id, client_ip


def _request_headers(scope: Scope) -> tuple[str, str | None]:
    """X-Request-ID ("" if absent) and X-Forwarded-For, the only headers read here; the
    last of repeated ones wins."""
    request_id, forwarded_for = b"", None
    for key, value in scope.get("headers", []):
        name = key.lower()
        if name == b"x-request-id":
            request_id = value
        elif name == b"x-forwarded-for":
            forwarded_for = value
    return (
        request_id.decode("latin-1"),
        forwarded_for.decode("latin-1") if forwarded_for is not None else None,
    )


def scope_state(scope: Any) -> dict[str, Any]:
    return scope.get("state", {})  # type: ignore[no-any-return]
