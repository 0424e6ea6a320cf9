"""Which browser origins may open a socket (cross-site WebSocket hijacking).

Browsers always send ``Origin`` on a WebSocket handshake and do not apply CORS to it, so the
server must check it itself. Allowed: the configured CORS origins, and the page's own host
(the playground served by this very server). No ``Origin`` header means a non-browser
client (CLI, SDK, server-to-server), which a cross-site page cannot impersonate.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


class OriginPolicy:
    def __init__(self, allowed_origins: Iterable[str]) -> None:
        allowed = [o.strip().lower().rstrip("/") for o in allowed_origins if o.strip()]
        self._any = "*" in allowed
        self._allowed = frozenset(o for o in allowed if o != "*")

    def allows(self, origin: str | None, host: str | None, scheme: str) -> bool:
        """``host`` is the handshake's Host header; ``scheme`` the socket's (ws or wss)."""
        if origin is None:
            return True
        normalized = origin.strip().lower().rstrip("/")
        if self._any or normalized in self._allowed:
            return True
        if not host:
            return False
        page = _endpoint(normalized)
        here = _endpoint(f"{scheme}://{host.strip().lower()}")
        if page is None or here is None or page[0] != here[0]:
            return False
        # A Host without a port: behind a TLS-terminating proxy the socket's own scheme (ws)
        # says nothing about the page's (https), so the host name alone must match.
        return page[1] == here[1] or ":" not in host.rsplit("]", 1)[-1]


def _endpoint(origin: str) -> tuple[str, int] | None:
    """(host, port) of an origin; None for ``null`` and anything that is not a web origin."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname, port or _DEFAULT_PORTS[parts.scheme]
