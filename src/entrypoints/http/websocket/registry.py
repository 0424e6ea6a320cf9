"""Live sockets of this process, and the sweep that re-checks their credentials (R9).

A token checked once at the handshake would keep a socket open for hours after logout.
Every ``recheck_s`` the registry runs each socket's credential through ``Authenticate``
again (revocation store, user row), so logout, password change, deactivation or a deleted
API key close the socket within a few seconds on every instance. One shared task, not a
timer per socket, and the checks are spread over the period with bounded concurrency. The
cost is one Authenticate (a revocation-store lookup and a user-row read) per socket per
``recheck_s``: 2,000 per second for 10,000 sockets at the 5 s default.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from application.identity.authenticate import Authenticate
from domain.errors import Unauthenticated, Unavailable
from entrypoints.http.websocket.connection import (
    CLOSE_GOING_AWAY,
    CLOSE_TRY_LATER,
    CLOSE_UNAUTHENTICATED,
    ChatSocket,
)

log = structlog.get_logger("parley.ws")

_CONCURRENT_CHECKS = 32
_SLICES = 10
_FAILED_CHECKS_TO_CLOSE = 2


class SocketRegistry:
    def __init__(self, authenticate: Authenticate, recheck_s: float) -> None:
        self._authenticate = authenticate
        self._recheck_s = recheck_s
        self._sockets: set[ChatSocket] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._sockets)

    def add(self, socket: ChatSocket) -> None:
        self._sockets.add(socket)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep_while_busy(), name="ws-recheck")

    def discard(self, socket: ChatSocket) -> None:
        self._sockets.discard(socket)

    async def recheck_all(self) -> None:
        """Re-authenticate every live socket once; close those no longer allowed."""
        await self._recheck_batch(list(self._sockets))

    async def _recheck_batch(self, sockets: list[ChatSocket]) -> None:
        gate = asyncio.Semaphore(_CONCURRENT_CHECKS)

        async def check(socket: ChatSocket) -> None:
            async with gate:
                await self._recheck(socket)

        await asyncio.gather(*(check(s) for s in sockets))

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for socket in list(self._sockets):
            await socket.close(CLOSE_GOING_AWAY, "SHUTTING_DOWN")

    async def _sweep_while_busy(self) -> None:
        """Each socket once per period, a slice at a time: a steady trickle of checks
        rather than a burst that would stall live streams every ``recheck_s``."""
        while self._sockets:
            sockets = list(self._sockets)
            for slice_no in range(_SLICES):
                await asyncio.sleep(self._recheck_s / _SLICES)
                try:
                    await self._recheck_batch(sockets[slice_no::_SLICES])
                except Exception:
                    log.exception("ws_recheck_failed")

    async def _recheck(self, socket: ChatSocket) -> None:
        if socket.closed:
            self._sockets.discard(socket)
            return
        try:
            principal = await self._authenticate(socket.credential)
        except Unauthenticated as exc:
            await socket.close(CLOSE_UNAUTHENTICATED, exc.code)
        except Unavailable as exc:
            # Fail closed (R8, R20), after one period's grace: a blip of the revocation
            # store (or a saturated instance) must not drop every socket at once and start
            # a reconnect storm. A revoked token then lives at most 2 x recheck_s.
            socket.failed_checks += 1
            if socket.failed_checks >= _FAILED_CHECKS_TO_CLOSE:
                await socket.close(CLOSE_TRY_LATER, exc.code)
        else:
            socket.failed_checks = 0
            if principal.user_id != socket.principal.user_id:
                await socket.close(CLOSE_UNAUTHENTICATED, "TOKEN_INVALID")
            socket.principal = principal  # role and plan changes apply to later frames
