"""The request rate-limit guard: per route group, keyed by who is calling.

It runs before the authentication guard, so a flood of requests with bad or missing
credentials is limited per client IP (which the request-context middleware resolved,
believing X-Forwarded-For only from trusted proxies). Groups: ``login`` (per IP) and
``default`` (per API key, else per user, else per IP); chat sends (handlers marked
``CHAT_SEND``) are limited per user by their use case. Health, metrics and docs are never
limited: load balancers and scrapers poll them. WebSocket handshakes count
themselves (see ``websocket.handshake``): only the socket knows its credential, which may
come in the query string or in the first frame.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler

from application.identity.principal import Principal
from application.usage.rate_limits import RateLimits, RouteGroup
from domain.errors import Unauthenticated

EXEMPT_PREFIXES = ("/health", "/metrics", "/schema", "/docs")
RATE_LIMIT_STATE = "rate_limit"
"""Key in ``scope["state"]`` of the allowed decision, for the RateLimit-* headers."""
UPSTREAM_STATE = "upstream_s"
"""Key in ``scope["state"]``: seconds a chat or /v1 handler waited on the model."""
CHAT_SEND = "chat_send"
"""Handler ``opt`` of the routes that send a chat turn (REST, SSE, /v1). Their per-user
limit is applied by the use case (SendMessage, CompleteChat), the same window as the
WebSocket and the CLI; here they are only limited per address while unauthenticated."""


def route_group(method: str, template: str) -> RouteGroup:
    if method == "POST" and template == "/api/v1/auth/login":
        return "login"
    return "default"


async def enforce_rate_limits(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    scope = connection.scope
    path = scope.get("path", "")
    if path.startswith(EXEMPT_PREFIXES) or scope["type"] == ScopeType.WEBSOCKET:
        return
    container = connection.state.dishka_container
    limits: RateLimits = await container.get(RateLimits)
    if not limits.enabled:
        return
    template = scope.get("path_template") or path
    chat_send = bool(handler.opt.get(CHAT_SEND))
    group: RouteGroup = "chat" if chat_send else route_group(scope.get("method") or "GET", template)
    client_ip = scope.get("state", {}).get("client_ip", "unknown")
    if handler.opt.get("public") or group == "login":
        subject = f"ip:{client_ip}"
    else:
        try:
            principal = await container.get(Principal)
        except Unauthenticated:
            # Count the failed attempt against the address, then refuse as before.
            await limits.check(group, f"ip:{client_ip}")
            raise
        if chat_send:
            return  # the use case counts it, in the one window of every transport
        subject = subject_for(group, principal)
    decision = await limits.check(group, subject)
    if decision is not None:
        scope.setdefault("state", {})[RATE_LIMIT_STATE] = decision


def subject_for(group: RouteGroup, principal: Principal) -> str:
    """Who a limit counts: the API key for ordinary requests made with one, else the user."""
    if group == "default" and principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    return f"user:{principal.user_id}"
