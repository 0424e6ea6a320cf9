"""Litestar app factory: one thin entrypoint over the use cases, wired through dishka."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from dishka import AsyncContainer, Provider
from dishka.integrations.litestar import LitestarProvider, setup_dishka
from litestar import Litestar, Router, get
from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send

from application.admission import TurnAdmission
from entrypoints.http import draining, routes
from entrypoints.http.admission import AdmissionMiddleware
from entrypoints.http.auth import PUBLIC, HttpAuthProvider, protect
from entrypoints.http.json_body import ParleyRequest, register_strict_bodies
from entrypoints.http.middleware import RequestContextMiddleware, TrustedProxies
from entrypoints.http.openapi_contract import document_errors
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.request_metrics import RequestMetricsMiddleware
from entrypoints.ioc import create_container
from entrypoints.settings import Settings

StartupHook = Callable[[AsyncContainer], Any]


@get("/docs", opt=PUBLIC, include_in_schema=False)
async def docs_redirect() -> Redirect:
    return Redirect(path="/schema/swagger")


def create_app(
    settings: Settings,
    *overrides: Provider,
    container: AsyncContainer | None = None,
    drain_on_signals: bool = False,
) -> Litestar:
    """Build the ASGI app. The container (and everything heavy) is created here, not at import.

    ``drain_on_signals``: the app is the process's server (`parley serve`): SIGTERM first
    drains it (``routes.DRAIN_HOOKS``), then reaches uvicorn."""
    container = container or create_container(
        settings, LitestarProvider(), HttpAuthProvider(), *overrides
    )

    async def drain() -> None:
        for hook in routes.DRAIN_HOOKS:
            await hook(container)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        for hook in routes.STARTUP_HOOKS:
            await hook(container)
        restore_signals = draining.drain_on_signals(drain) if drain_on_signals else None
        try:
            yield
        finally:
            if restore_signals is not None:
                restore_signals()
            for hook in routes.SHUTDOWN_HOOKS:
                await hook(container)
            await container.close()

    handlers: Sequence[Any] = [*routes.all_routes()]
    if settings.docs_enabled:
        handlers = [*handlers, docs_redirect]
    app = Litestar(
        route_handlers=handlers,
        # Rate limits, then authentication, for every route (a hook, not guards: see protect).
        before_request=protect,
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=_cors(settings),
        openapi_config=_openapi(settings),
        request_max_body_size=settings.http.max_body_bytes,
        request_class=ParleyRequest,
        lifespan=[lifespan],
        debug=False,
        # Our problem handlers log failures once, via structlog, without local variables
        # (which would include Authorization headers); Litestar's own logger stays out.
        logging_config=None,
    )
    routed = app.asgi_handler
    setup_dishka(container, app)
    app.asgi_handler = _sockets_without_session_container(routed, app.asgi_handler)
    _answer_options_for_merged_routes(app)
    _refuse_unprotected_routes(app)
    register_strict_bodies(app)
    http = settings.http
    gate = TurnAdmission(http.admission_slots, http.admission_queue, http.admission_wait_s)
    # Outermost, so 404/405 from the router and CORS preflights get request ids too.
    app.asgi_handler = RequestContextMiddleware(
        RequestMetricsMiddleware(AdmissionMiddleware(app.asgi_handler, gate), container),
        proxies=TrustedProxies(settings.http.trusted_proxies),
        hsts=settings.is_production,
    )
    return app


def _sockets_without_session_container(routed: ASGIApp, wired: ASGIApp) -> ASGIApp:
    """dishka's middleware opens a SESSION-scope container, with a WebSocket object of its
    own, for every socket, and both live as long as the socket. Nothing a socket resolves
    is in that scope (the socket opens REQUEST scopes from the app's container), so sockets
    skip it: per idle socket that is memory multiplied by every connection."""

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.WEBSOCKET:
            await routed(scope, receive, send)
        else:
            await wired(scope, receive, send)

    return handler


def _answer_options_for_merged_routes(app: Litestar) -> None:
    """Litestar builds a path's automatic OPTIONS handler for the first route object of
    that path, and keeps listing only that route's methods in ``Allow`` after the handlers
    of the path (GET list, POST create, ...) are merged into one route. Point each OPTIONS
    handler at the merged route, so ``Allow`` names every method the path serves."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.handler_name != "options_handler":
                continue
            for cell in getattr(handler.fn, "__closure__", None) or ():
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route


def _refuse_unprotected_routes(app: Litestar) -> None:
    """Authentication is the app's request hook, and a closer layer's hook replaces it:
    a protected route with its own ``before_request`` would be served unauthenticated, and
    WebSocket handlers get no request hook at all (they authenticate their handshake
    themselves, so they must be marked public). Refuse to build such an app."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            socket_handler = getattr(route, "route_handler", None)
            for handler in [socket_handler] if socket_handler is not None else []:
                if not handler.opt.get("public"):
                    raise RuntimeError(f"{route.path}: a socket authenticates itself (PUBLIC)")
            continue
        for handler in route.route_handlers:
            if handler.opt.get("public") or handler.handler_name == "options_handler":
                continue
            hook = handler.resolve_before_request()
            if getattr(hook, "func", hook) is not protect:
                raise RuntimeError(f"{route.path}: a protected route must keep the auth hook")


def _cors(settings: Settings) -> CORSConfig | None:
    if not settings.http.cors_origins:
        return None
    return CORSConfig(
        allow_origins=settings.http.cors_origins,
        allow_credentials=settings.http.cors_allow_credentials,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Last-Event-ID"],
        expose_headers=[
            "X-Request-ID",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
        max_age=600,
    )


def _openapi(settings: Settings) -> OpenAPIConfig | None:
    if not settings.docs_enabled:
        return None
    return OpenAPIConfig(
        title="Parley",
        version="0.1.0",
        description=(
            "Self-hostable AI chat backend. Errors are RFC 9457 problem+json with a stable "
            "`code`, `request_id` and `timestamp`. Text may not contain U+0000 (NUL): any "
            "field with it is refused with 400 `VALIDATION_ERROR`.\n\n"
            "**WebSocket** `GET /api/v1/ws` (not expressible as an OpenAPI path): authenticate "
            "with `?token=<JWT or API key>` or a first `{type: auth, token}` frame (failure: "
            "close 4401). Client frames: `chat {request_id, conversation_id?, content, model?, "
            "temperature?, max_tokens?}`, `cancel {request_id}`, `resume {generation_id, "
            "after?}`, `ping`. Server frames: `ready`, `ack`, `delta`, `done`, `error {code, "
            "detail}` (a stream's also names `generation_id` and the last `event_id` it sent: "
            "`resume` with them misses nothing), `pong`. Invalid frames get an `error` frame; "
            "the socket stays open. "
            "Pushed to every socket of the user on any instance: `notification {notification}` "
            "(the stored `Notification`, as listed by `GET /api/v1/notifications`), "
            "`message.completed {message}` when a stored reply finishes (complete, cancelled "
            "or failed; not sent to the socket that streamed it) and `job.updated` (a job's "
            "progress, as the jobs feature publishes it). Pushes are best-effort: the lists "
            "are the resync path."
        ),
        path="/schema",
        openapi_router=Router(
            path="/schema",
            route_handlers=[],
            opt=PUBLIC,
            include_in_schema=False,
            before_request=document_errors,
        ),
        render_plugins=[SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="Access JWT or API key (pk_...)",
                )
            }
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=True,
    )
