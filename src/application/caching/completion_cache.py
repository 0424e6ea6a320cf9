"""CompletionCache: replays identical stateless completions that are deterministic.

Only a client that opts in, at temperature 0, without streaming, is served from it. The
key digests the user, the model and the whole request, so one user's cached reply is
never another's, and any difference in the request misses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import structlog

from application.llm.router import RoutedCompletion
from application.ports.llm import ChatMessage, Completion, Usage
from application.ports.metrics import Metrics
from application.ports.response_cache import Cache, CacheUnavailable

log = structlog.get_logger("parley.cache")


class CompletionCache:
    def __init__(
        self, cache: Cache, metrics: Metrics, ttl_s: int = 3600, enabled: bool = True
    ) -> None:
        self._cache = cache
        self._metrics = metrics
        self._ttl_s = ttl_s
        self._enabled = enabled

    def eligible(self, *, opted_in: bool, temperature: float | None, stream: bool) -> bool:
        return self._enabled and opted_in and not stream and temperature == 0

    @staticmethod
    def key(
        user_id: UUID,
        model: str,
        messages: Sequence[ChatMessage],
        max_tokens: int | None,
        temperature: float | None,
        extra: Mapping[str, Any],
    ) -> str:
        request = {
            "user": str(user_id),
            "model": model,
            "messages": [[m.role, m.content] for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "extra": extra,
        }
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
        return "completion:" + hashlib.sha256(canonical.encode()).hexdigest()

    async def get(self, key: str) -> RoutedCompletion | None:
        try:
            raw = await self._cache.get(key)
        except CacheUnavailable:
            return None  # an optimisation only: carry on upstream
        self._metrics.cache_lookup(raw is not None)
        if raw is None:
            return None
        data = json.loads(raw)
        usage = Usage(data["prompt_tokens"], data["completion_tokens"])
        completion = Completion(data["content"], data["finish_reason"], usage)
        return RoutedCompletion(completion, data["model_id"])

    async def put(self, key: str, routed: RoutedCompletion) -> None:
        completion = routed.completion
        if completion.usage is None:
            return
        value = {
            "model_id": routed.model_id,
            "content": completion.content,
            "finish_reason": completion.finish_reason,
            "prompt_tokens": completion.usage.prompt_tokens,
            "completion_tokens": completion.usage.completion_tokens,
        }
        try:
            await self._cache.set(key, json.dumps(value).encode(), self._ttl_s)
        except CacheUnavailable as exc:
            log.info("completion_not_cached", code=exc.code)
