"""Import uploads under ``<data_dir>/imports``, one file per (owner, upload id)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from application.ports.portability import ImportUploads


class FileImportUploads(ImportUploads):
    def __init__(self, directory: Path) -> None:
        self._dir = directory

    def path(self, owner_id: UUID, upload_id: UUID) -> Path:
        return self._dir / f"{owner_id.hex}-{upload_id.hex}.upload"

    def exists(self, owner_id: UUID, upload_id: UUID) -> bool:
        return self.path(owner_id, upload_id).is_file()

    def discard(self, owner_id: UUID, upload_id: UUID) -> None:
        self.path(owner_id, upload_id).unlink(missing_ok=True)
