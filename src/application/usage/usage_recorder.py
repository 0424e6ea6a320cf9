"""UsageRecorder: adds each request's spending to its daily aggregate, written behind."""

from __future__ import annotations

from application.monitoring.write_behind import WriteBehind
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.usage import UsageEntry


class UsageRecorder(WriteBehind):
    """Business rules: one aggregate per (day, user, model, api key); a flush adds each
    aggregate to its row with one upsert, so the table grows by rows of activity, not by
    requests; a failed flush loses nothing (it merges back and retries)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, interval_s: float = 1.0) -> None:
        super().__init__(interval_s)
        self._uow_factory = uow_factory
        self._pending: dict[object, UsageEntry] = {}

    def record(self, entry: UsageEntry) -> None:
        self._pending[entry.key] = self._merged(entry)
        self._schedule()

    def _merged(self, entry: UsageEntry) -> UsageEntry:
        known = self._pending.get(entry.key)
        if known is None:
            return entry
        return UsageEntry(
            entry.day, entry.user_id, entry.model, entry.api_key_id, known.totals + entry.totals
        )

    def _has_pending(self) -> bool:
        return bool(self._pending)

    async def _write(self) -> None:
        batch, self._pending = self._pending, {}
        try:
            async with self._uow_factory() as uow:
                await uow.usage.add(list(batch.values()))
                await uow.commit()
        except BaseException:
            for entry in batch.values():  # back in line, merged with anything newer
                self._pending[entry.key] = self._merged(entry)
            raise
