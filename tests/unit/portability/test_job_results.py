"""Import and export job results have the shape SPEC.md promises."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from application.portability.export_conversations import ExportFormat, ExportResult
from application.portability.job_results import export_result, import_result
from domain.imports import ImportItem, ImportReport, ItemStatus


def test_import_result_counts_and_lists_every_item() -> None:
    cid = uuid4()
    report = ImportReport(
        [
            ImportItem("a", "A", ItemStatus.IMPORTED, conversation_id=cid, messages=4),
            ImportItem("b", "B", ItemStatus.SKIPPED, conversation_id=cid),
            ImportItem("c", None, ItemStatus.FAILED, error="malformed conversation"),
        ]
    )
    assert import_result(report) == {
        "imported": 1,
        "skipped": 1,
        "failed": 1,
        "items": [
            {
                "source_id": "a",
                "title": "A",
                "status": "imported",
                "conversation_id": str(cid),
                "messages": 4,
            },
            {"source_id": "b", "title": "B", "status": "skipped", "conversation_id": str(cid)},
            {
                "source_id": "c",
                "title": None,
                "status": "failed",
                "error": "malformed conversation",
            },
        ],
    }


def test_export_result_points_at_the_download() -> None:
    export_id = uuid4()
    expires = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    result = ExportResult(export_id, ExportFormat.MARKDOWN, 3, 1234, expires, "f.zip")
    assert export_result(result) == {
        "download_url": f"/api/v1/exports/{export_id}/download",
        "expires_at": "2026-12-02T10:00:00Z",
        "bytes": 1234,
        "conversations": 3,
        "format": "markdown",
    }
