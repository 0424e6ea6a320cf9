"""Request bodies are decoded by Litestar's msgspec hooks; one thing they let through is
nesting deeper than the decoder's recursion limit, which raises RecursionError (a 500).
A body nested that deep is malformed input: answer 400 like any other unparsable body."""

from __future__ import annotations

from typing import Any

from litestar import Request

from domain.errors import InvalidInput


class JsonTooDeep(InvalidInput):
    title = "JSON nested too deeply"


class ParleyRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise JsonTooDeep(
                "the JSON body is nested too deeply",
                details={"fields": [{"field": "body", "message": "nested too deeply"}]},
            ) from None
