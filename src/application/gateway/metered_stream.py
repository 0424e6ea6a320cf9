"""Settling a gateway completion's quota once its real usage is known."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from application.llm.router import RoutedChunk, RoutedCompletion
from application.ports.llm import Usage
from application.ports.spend_guard import SpendGuard, SpendTicket
from application.ports.tokenizer import Tokenizer


async def settle_completion(
    spending: SpendGuard,
    ticket: SpendTicket,
    routed: RoutedCompletion,
    prompt_tokens: int,
    tokenizer: Tokenizer,
) -> None:
    usage = routed.completion.usage or Usage(
        prompt_tokens, tokenizer.count_text(routed.completion.content)
    )
    await spending.settle(
        ticket,
        model_id=routed.model_id,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
    )


async def metered_stream(
    first: RoutedChunk,
    rest: AsyncIterator[RoutedChunk],
    spending: SpendGuard,
    ticket: SpendTicket,
    prompt_tokens: int,
) -> AsyncIterator[RoutedChunk]:
    """Yields the stream and settles exactly once however it ends (done, upstream error,
    client gone): the usage the provider reported, else the chunks seen (about one token
    each), or a release when nothing was produced."""
    usage: Usage | None = None
    model_id = first.model_id
    pieces = 0
    try:
        chunk: RoutedChunk | None = first
        while chunk is not None:
            model_id = chunk.model_id
            usage = chunk.chunk.usage or usage
            pieces += 1 if chunk.chunk.delta else 0
            yield chunk
            chunk = await anext(rest, None)
    finally:
        if usage is None and pieces:
            usage = Usage(prompt_tokens, pieces)
        # A task, shielded: a disconnecting client cancels this generator, never the
        # closing of the upstream or the accounting.
        finishing = asyncio.ensure_future(_finish(rest, spending, ticket, model_id, usage))
        _FINISHING.add(finishing)
        finishing.add_done_callback(_FINISHING.discard)
        await asyncio.shield(finishing)


_FINISHING: set[asyncio.Future[None]] = set()


async def _finish(
    rest: AsyncIterator[RoutedChunk],
    spending: SpendGuard,
    ticket: SpendTicket,
    model_id: str,
    usage: Usage | None,
) -> None:
    closer = getattr(rest, "aclose", None)
    if closer is not None:  # stop the upstream when the client goes away
        await closer()
    if usage is None:
        await spending.release(ticket)
        return
    await spending.settle(
        ticket,
        model_id=model_id,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
    )
