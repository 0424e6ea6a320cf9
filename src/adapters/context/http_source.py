"""The ``http`` context source: POST the user's message to one configured URL.

Untrusted upstream: only the configured URL is ever called (no redirects followed,
no proxies from the environment), every call is bounded in time and in response size,
secret headers come from environment variables named in the configuration, and the
answer is validated before any of it reaches a prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import httpx
import msgspec

from application.ports.context_source import ContextQuery, ContextSource, ContextSourceUnavailable
from domain.grounding import ContextItem


class _Item(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(max_length=100_000)]
    title: str | None = None
    url: str | None = None


class _Answer(msgspec.Struct):
    items: list[_Item]


_DECODER = msgspec.json.Decoder(_Answer)


class HttpContextSource(ContextSource):
    kind = "http"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout_s: float,
        max_bytes: int = 256 * 1024,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self._url = url
        self._max_bytes = max_bytes
        self._headers = {"Accept": "application/json", **(headers or {})}
        self._client = client or httpx.AsyncClient(
            follow_redirects=False, trust_env=False, timeout=httpx.Timeout(timeout_s)
        )

    async def fetch(self, query: ContextQuery) -> list[ContextItem]:
        body: dict[str, object] = {
            "query": query.text,
            "conversation_id": str(query.conversation_id),
        }
        answer = _decode(await self._post(body))
        return [ContextItem(i.text, i.title, i.url) for i in answer.items if i.text.strip()]

    async def ping(self) -> str | None:
        _decode(await self._post({"query": "", "conversation_id": None}))
        return None

    async def close(self) -> None:
        await self._client.aclose()

    async def _post(self, body: dict[str, object]) -> bytes:
        try:
            async with self._client.stream(
                "POST", self._url, json=body, headers=self._headers
            ) as response:
                if response.status_code != 200:
                    raise ContextSourceUnavailable(
                        f"the source answered HTTP {response.status_code}"
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self._max_bytes:
                    raise ContextSourceUnavailable("the source's answer is too large")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise ContextSourceUnavailable("the source's answer is too large")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise TimeoutError from exc
        except httpx.HTTPError as exc:
            raise ContextSourceUnavailable(
                f"the source is unreachable ({type(exc).__name__})"
            ) from exc


def _decode(raw: bytes) -> _Answer:
    try:
        return _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise ContextSourceUnavailable("the source's answer is not the expected JSON") from exc
