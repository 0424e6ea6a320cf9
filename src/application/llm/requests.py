"""What the router sends upstream: bounded requests, total-time calls, continuations."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from application.ports.llm import (
    ChatMessage,
    Completion,
    CompletionRequest,
    LLMProvider,
    ProviderTimeout,
)
from domain.catalog import ModelSpec

CONTINUE_PROMPT = "Continue exactly where your previous reply stopped, without repeating it."


def upstream_request(
    spec: ModelSpec,
    messages: Sequence[ChatMessage],
    max_tokens: int,
    temperature: float | None,
    extra: Mapping[str, Any] | None,
) -> CompletionRequest:
    """The model's upstream name, ``max_tokens`` within the model's cap, and only the extra
    parameters the model allows (logprobs, tools, logit_bias... are dropped otherwise)."""
    allowed = {k: v for k, v in extra.items() if k in spec.allowed_params} if extra else {}
    return CompletionRequest(
        model=spec.upstream_model,
        messages=tuple(messages),
        max_tokens=max(1, min(max_tokens, spec.max_output_tokens)),
        temperature=temperature,
        extra=allowed,
    )


async def complete_within(
    provider: LLMProvider, request: CompletionRequest, total_s: float
) -> Completion:
    try:
        async with asyncio.timeout(total_s):
            return await provider.complete(request)
    except TimeoutError:
        raise ProviderTimeout(f"provider {provider.name!r} did not answer in time") from None


def continuation(messages: Sequence[ChatMessage], emitted: list[str]) -> list[ChatMessage]:
    """Ask a fallback model to carry on from the partial reply instead of starting over."""
    return [
        *messages,
        ChatMessage("assistant", "".join(emitted)),
        ChatMessage("user", CONTINUE_PROMPT),
    ]
