"""Mark some, or all, of the caller's notifications read."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.errors import InvalidInput

MAX_IDS = 100


@dataclass(frozen=True, slots=True)
class MarkReadCommand:
    user_id: UUID
    ids: tuple[UUID, ...] = ()
    all: bool = False


class MarkNotificationsRead:
    """Business rules:
    - ``all`` marks every one of the caller's notifications (the ``ids`` are among them);
      otherwise the listed ``ids``, at most 100 (none: nothing changes);
    - ids that are not the caller's (or do not exist) are ignored, so the answer never
      tells whether someone else's id exists; already-read ones stay read;
    - returns how many changed (the CLI reports it; HTTP answers 204).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, command: MarkReadCommand) -> int:
        if len(command.ids) > MAX_IDS:
            raise InvalidInput(
                f"at most {MAX_IDS} ids at once",
                details={"fields": [{"field": "ids", "message": f"at most {MAX_IDS}"}]},
            )
        if not command.all and not command.ids:
            return 0
        async with self._uow as uow:
            changed = await uow.notifications.mark_read(
                command.user_id, None if command.all else set(command.ids), self._clock.now()
            )
            await uow.commit()
        return changed
