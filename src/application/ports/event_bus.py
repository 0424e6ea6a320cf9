"""Per-user events that cross instances: whichever process holds a user's sockets gets them.

Delivery is best-effort and at most once (a push lost during a reconnect is not replayed):
anything a client must not miss is stored first (notifications), and the stored list is the
resync path.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from domain.errors import Unavailable


class EventType(StrEnum):
    NOTIFICATION = "notification"
    MESSAGE_COMPLETED = "message.completed"
    JOB_UPDATED = "job.updated"
    SESSION_REVOKED = "session.revoked"


@dataclass(frozen=True, slots=True)
class UserEvent:
    """One event for one user. ``data`` is plain JSON data (it crosses processes)."""

    type: EventType
    user_id: UUID
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[UserEvent], None]
"""Called in the bus's own task for each event of the user: it must not block or raise
(hand slow work, such as socket writes, to a task of its own)."""


class EventBusUnavailable(Unavailable):
    code = "EVENT_BUS_UNAVAILABLE"
    title = "Event bus unavailable"


class Subscription(Protocol):
    @abstractmethod
    def cancel(self) -> None:
        """Stop delivering to this subscriber (idempotent)."""


class EventBus(Protocol):
    @abstractmethod
    async def publish(self, event: UserEvent) -> None:
        """Hand ``event`` to every subscriber of its user on every instance; raises
        ``EventBusUnavailable`` when it cannot be sent (the caller decides what that means)."""

    @abstractmethod
    def subscribe(self, user_id: UUID, subscriber: Subscriber) -> Subscription:
        """Deliver this user's events, of every type, to ``subscriber`` in this process."""

    @abstractmethod
    async def aclose(self) -> None: ...
