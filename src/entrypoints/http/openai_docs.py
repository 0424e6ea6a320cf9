"""OpenAPI documentation of the /v1 routes: OpenAI error responses and the SSE variant."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema

from entrypoints.http.openai_errors import OpenAIError

OPENAI_ERROR_RESPONSES = {
    status: ResponseSpec(OpenAIError, description=text)
    for status, text in [
        (400, "Invalid request (OpenAI error body)"),
        (401, "Missing or invalid API key or token"),
        (404, "Model not found (`code: model_not_found`)"),
        (413, "Request body too large"),
        (429, "Rate limit or quota exceeded (`Retry-After` header)"),
        (502, "Upstream provider error"),
        (503, "Upstream provider unavailable, or too many requests starting (`server_busy`)"),
        (504, "Upstream provider timed out"),
    ]
}


COMPLETION_CHUNK = Schema(
    type=OpenAPIType.OBJECT,
    description="One event: `data` is a `chat.completion.chunk` JSON object, the last one `[DONE]`",
    required=["data"],
    properties={"data": Schema(type=OpenAPIType.STRING)},
)


@dataclass
class CompletionOperation(Operation):
    """Documents the streamed variant of the 200 response next to the JSON one."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content["text/event-stream"] = OpenAPIMediaType(schema=COMPLETION_CHUNK)
