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


class HttpAuthProvider(Provider):
    @provide(scope=Scope.REQUEST)
    async def principal(self, request: Request, authenticate: Authenticate) -> Principal:  # type: ignore[type-arg]
        credential = bearer_credential(request.headers.get("authorization"))
        return await authenticate(credential)
