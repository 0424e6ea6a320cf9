"""DownloadExport: hand an export file to its owner while it has not expired."""

from __future__ import annotations

import asyncio
from uuid import UUID

from application.ports.clock import Clock
from application.ports.portability import ExportStore, StoredExport


class DownloadExport:
    """Business rules: only the owner gets it (anyone else: "not found", never 403);
    after its expiry it is gone for good (410) and the file is deleted."""

    def __init__(self, store: ExportStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, owner_id: UUID, export_id: UUID) -> StoredExport:
        return await asyncio.to_thread(self._store.locate, export_id, owner_id, self._clock.now())
