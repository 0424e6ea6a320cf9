"""Best-effort pushes: the record is already stored when a push is attempted, so a bus
outage (or a bug in an adapter) is logged and never fails the caller."""

from __future__ import annotations

from typing import Any, Literal

import structlog

from application.ports.event_bus import EventBus, UserEvent
from domain.errors import DomainError

log = structlog.get_logger("parley.events")


async def push(
    bus: EventBus,
    event: UserEvent,
    *,
    not_pushed: str,
    level: Literal["info", "warning"] = "warning",
    **fields: Any,
) -> None:
    """Publish ``event``; if it cannot be, log ``not_pushed`` with ``fields`` and go on."""
    try:
        await bus.publish(event)
    except DomainError as exc:
        getattr(log, level)(not_pushed, code=exc.code, **fields)
    except Exception:
        log.exception(not_pushed, **fields)
