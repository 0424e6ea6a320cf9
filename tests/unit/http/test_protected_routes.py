"""Authentication is the app's request hook; a route that would lose it is refused."""

from __future__ import annotations

import pytest
from litestar import Litestar, Router, WebSocket, get, websocket

from entrypoints.http.app import _refuse_unprotected_routes
from entrypoints.http.auth import PUBLIC, protect


async def _own_hook(request: object) -> None:
    return None


@get("/private", sync_to_thread=False)
def private() -> str:
    return "secret"


@get("/open", opt=PUBLIC, sync_to_thread=False)
def open_route() -> str:
    return "hello"


def test_an_app_whose_protected_route_replaces_the_auth_hook_is_refused() -> None:
    app = Litestar(
        route_handlers=[Router("/x", route_handlers=[private], before_request=_own_hook)],
        before_request=protect,
    )
    with pytest.raises(RuntimeError, match="auth hook"):
        _refuse_unprotected_routes(app)


def test_public_routes_may_have_their_own_hook_and_protected_ones_keep_the_app_s() -> None:
    app = Litestar(
        route_handlers=[
            Router("/x", route_handlers=[open_route], before_request=_own_hook),
            private,
        ],
        before_request=protect,
    )
    _refuse_unprotected_routes(app)


def test_a_websocket_not_marked_public_is_refused_it_gets_no_request_hook() -> None:
    @websocket("/socket")
    async def socket(socket: WebSocket) -> None:  # type: ignore[type-arg]
        await socket.close()

    with pytest.raises(RuntimeError, match="PUBLIC"):
        _refuse_unprotected_routes(Litestar(route_handlers=[socket], before_request=protect))
