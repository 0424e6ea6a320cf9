"""Live sockets of this process: pushes from the event bus, and credential re-checks.

Pushes: the registry subscribes to the event bus once per user with a socket here, and
fans each event out to that user's sockets, encoded once: ``notification`` and
``message.completed`` (not to the socket that started that reply: it streams it itself)
and ``job.updated`` become frames; ``session.revoked`` (logout, password change,
deactivation, role/plan change, a deleted API key: anything that bumps the user's identity
epoch) re-checks that user's sockets at once, so they close without waiting for a sweep.

Sweep: every ``recheck_s`` each socket's credential runs through ``Authenticate`` again
(revocation store, user row). With revocation pushed it is only the safety net for a push
lost while the bus reconnects, so its period can be long; expiry needs no sweep at all
(each socket has a timer). The checks are spread over the period with bounded concurrency;
the cost is one Authenticate per socket per ``recheck_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

import structlog

from application.identity.authenticate import Authenticate
from application.ports.event_bus import EventBus, EventType, Subscription, UserEvent
from domain.errors import Unauthenticated, Unavailable
from entrypoints.http.websocket.connection import (
    CLOSE_GOING_AWAY,
    CLOSE_TRY_LATER,
    CLOSE_UNAUTHENTICATED,
    ChatSocket,
)
from entrypoints.http.websocket.replies import event_text
from entrypoints.http.websocket.tasks import spawn

log = structlog.get_logger("parley.ws")

_CONCURRENT_CHECKS = 32
_SLICES = 10
_FAILED_CHECKS_TO_CLOSE = 2


@dataclass(slots=True)
class _UserSockets:
    sockets: set[ChatSocket] = field(default_factory=set)
    subscription: Subscription | None = None


class SocketRegistry:
    def __init__(
        self, authenticate: Authenticate, recheck_s: float, bus: EventBus | None = None
    ) -> None:
        self._authenticate = authenticate
        self._recheck_s = recheck_s
        self._bus = bus
        self._sockets: set[ChatSocket] = set()
        self._users: dict[UUID, _UserSockets] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._sockets)

    def add(self, socket: ChatSocket) -> None:
        self._sockets.add(socket)
        user_id = socket.principal.user_id  # a socket never changes user (re-auth checks)
        group = self._users.get(user_id)
        if group is None:
            group = self._users[user_id] = _UserSockets()
            if self._bus is not None:
                group.subscription = self._bus.subscribe(
                    user_id, lambda event: self._on_event(group, event)
                )
        group.sockets.add(socket)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep_while_busy(), name="ws-recheck")

    def discard(self, socket: ChatSocket) -> None:
        self._sockets.discard(socket)
        user_id = socket.principal.user_id
        group = self._users.get(user_id)
        if group is None:
            return
        group.sockets.discard(socket)
        if not group.sockets:
            del self._users[user_id]
            if group.subscription is not None:
                group.subscription.cancel()

    def _on_event(self, group: _UserSockets, event: UserEvent) -> None:
        sockets = [s for s in group.sockets if not s.closed]
        if sockets:
            spawn(self._push(sockets, event))

    async def _push(self, sockets: list[ChatSocket], event: UserEvent) -> None:
        if event.type is EventType.SESSION_REVOKED:
            await self._recheck_batch(sockets)
            return
        text = event_text(event.type.value, event.data)
        own = _generation_of(event) if event.type is EventType.MESSAGE_COMPLETED else None

        async def deliver(socket: ChatSocket) -> None:
            if own is not None and await socket.started_here(own):
                return
            await socket.send_text(text)

        await asyncio.gather(*(deliver(s) for s in sockets))

    async def recheck_all(self) -> None:
        """Re-authenticate every live socket once; close those no longer allowed."""
        await self._recheck_batch(list(self._sockets))

    async def _recheck_batch(self, sockets: Iterable[ChatSocket]) -> None:
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
            self.discard(socket)
            return
        try:
            principal = await self._authenticate(socket.credential)
        except Unauthenticated as exc:
            await socket.close(CLOSE_UNAUTHENTICATED, exc.code)
        except Unavailable as exc:
            # Fail closed, after one period's grace: a blip of the revocation
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


def _generation_of(event: UserEvent) -> UUID | None:
    message = event.data.get("message")
    generation = message.get("generation_id") if isinstance(message, dict) else None
    try:
        return UUID(generation) if isinstance(generation, str) else None
    except ValueError:
        return None
