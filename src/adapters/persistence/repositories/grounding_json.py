"""JSON columns of grounded replies: a conversation's source names, a reply's results."""

from __future__ import annotations

import json
from typing import Any

from domain.grounding import ContextItem, SourceResult


def sources_json(names: tuple[str, ...]) -> str | None:
    return json.dumps(list(names)) if names else None


def sources_from_json(raw: str | None) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()


def context_json(results: list[SourceResult] | None) -> str | None:
    if results is None:
        return None
    return json.dumps([_result(r) for r in results])


def context_from_json(raw: str | None) -> list[SourceResult] | None:
    if not raw:
        return None
    return [
        SourceResult(
            source=r["source"],
            status=r["status"],
            items=[ContextItem(i["text"], i.get("title"), i.get("url")) for i in r["items"]],
            detail=r.get("detail"),
        )
        for r in json.loads(raw)
    ]


def _result(result: SourceResult) -> dict[str, Any]:
    return {
        "source": result.source,
        "status": result.status,
        "items": [{"text": i.text, "title": i.title, "url": i.url} for i in result.items],
        "detail": result.detail,
    }
