"""/api/v1/ws: chat over WebSocket.

Public for the HTTP guard because a browser cannot send an Authorization header on a
WebSocket handshake: the socket authenticates itself (``websocket.handshake``).
"""

from __future__ import annotations

from typing import Any

import structlog
from dishka import AsyncContainer
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from entrypoints.http.auth import PUBLIC
from entrypoints.http.websocket.handshake import open_socket
from entrypoints.http.websocket.services import SocketServices
from entrypoints.http.websocket.session import SocketSession

log = structlog.get_logger("parley.ws")

CLOSE_INTERNAL_ERROR = 1011


@websocket("/api/v1/ws", opt=PUBLIC)
async def chat_socket(socket: WebSocket[Any, Any, Any]) -> None:
    # The app's container: a socket has no container of its own (see create_app).
    container: AsyncContainer = socket.app.state.dishka_container
    services = await container.get(SocketServices)
    opened = await open_socket(socket, services)
    if opened is None:
        return
    session = SocketSession(opened, container, services)
    services.registry.add(opened)
    try:
        await session.run(socket)
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("ws_session_failed", user_id=str(opened.principal.user_id))
        await opened.close(CLOSE_INTERNAL_ERROR, "INTERNAL_ERROR")
    finally:
        services.registry.discard(opened)
        session.detach()


ROUTES = [chat_socket]
