"""The ``result`` of import and export jobs, as plain JSON data (the public contract)."""

from __future__ import annotations

from typing import Any

from application.portability.export_conversations import ExportResult
from domain.imports import ImportReport


def import_result(report: ImportReport) -> dict[str, Any]:
    items = []
    for item in report.items:
        out: dict[str, Any] = {
            "source_id": item.source_id,
            "title": item.title,
            "status": item.status.value,
        }
        if item.conversation_id is not None:
            out["conversation_id"] = str(item.conversation_id)
        if item.messages is not None:
            out["messages"] = item.messages
        if item.error is not None:
            out["error"] = item.error
        items.append(out)
    return {
        "imported": report.imported,
        "skipped": report.skipped,
        "failed": report.failed,
        "items": items,
    }


def export_result(result: ExportResult) -> dict[str, Any]:
    return {
        "download_url": result.download_path,
        "expires_at": result.expires_at.isoformat().replace("+00:00", "Z"),
        "bytes": result.bytes,
        "conversations": result.conversations,
        "format": result.format.value,
    }
