"""HTTP authentication: a global guard (every route is protected unless marked public)
and the REQUEST-scoped ``Principal`` that handlers ask dishka for."""

from __future__ import annotations

from typing import Any

from dishka import Provider, Scope, provide
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from application.identity.authenticate import Authenticate
from application.identity.principal import Principal
from domain.errors import Forbidden
from entrypoints.http.admission import release_admission
from entrypoints.http.rate_limit_guard import enforce_rate_limits

PUBLIC = {"public": True}
"""Put ``opt=PUBLIC`` on a handler (or router) that needs no authentication."""


def bearer_credential(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


async def require_principal(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if handler.opt.get("public"):
        return
    container = connection.state.dishka_container
    principal = await container.get(Principal)
    if handler.opt.get("admin") and not principal.is_admin:
        raise Forbidden("this route needs the admin role")


async def protect(request: Request[Any, Any, Any]) -> None:
    """The app's ``before_request``: rate limits first (callers with bad credentials are
    limited per IP too), then authentication; then the request leaves the entry queue.

    A request hook rather than two guards: Litestar copies the route handler for every
    guard of every request, a cost paid per request for nothing here."""
    handler = request.route_handler
    try:
        await enforce_rate_limits(request, handler)
        await require_principal(request, handler)
    finally:
        await release_admission(request.scope)


class HttpAuthProvider(Provider):
    @provide(scope=Scope.REQUEST)
    async def principal(self, request: Request, authenticate: Authenticate) -> Principal:  # type: ignore[type-arg]
        credential = bearer_credential(request.headers.get("authorization"))
        return await authenticate(credential)
