"""A gateway stream that settles its quota exactly once, however it ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from application.llm.router import RoutedChunk
from application.ports.llm import Usage
from application.usage.charge import Charge
from domain.messages import TokenUsage


def token_usage(usage: Usage | None) -> TokenUsage | None:
    return None if usage is None else TokenUsage(usage.prompt_tokens, usage.completion_tokens)


class MeteredStream:
    """Yields the stream and settles when it ends (done, upstream error, client gone):
    the usage the provider reported, else the domain's estimate of the text seen, or a
    release when nothing was produced. ``charged`` is then what the client may be told."""

    def __init__(self, first: RoutedChunk, rest: AsyncIterator[RoutedChunk], charge: Charge):
        self._first: RoutedChunk | None = first
        self._rest = rest
        self._charge = charge
        self._model_id = first.model_id
        self._usage: Usage | None = None
        self._parts: list[str] = []
        self._finished = False

    @property
    def charged(self) -> TokenUsage | None:
        return self._charge.charged

    def __aiter__(self) -> MeteredStream:
        return self

    async def __anext__(self) -> RoutedChunk:
        if self._finished:
            raise StopAsyncIteration
        try:
            chunk = self._first
            if chunk is None:
                chunk = await anext(self._rest)
            self._first = None
        except BaseException:
            await self.aclose()
            raise
        self._model_id = chunk.model_id
        self._usage = chunk.chunk.usage or self._usage
        if chunk.chunk.delta:
            self._parts.append(chunk.chunk.delta)
        return chunk

    async def aclose(self) -> None:
        """Stop the upstream and settle; idempotent. Shielded: a disconnecting client
        cancels its reading, never the closing of the upstream or the accounting."""
        if self._finished:
            return
        self._finished = True
        finishing = asyncio.ensure_future(self._finish())
        _FINISHING.add(finishing)
        finishing.add_done_callback(_FINISHING.discard)
        await asyncio.shield(finishing)

    async def _finish(self) -> None:
        closer = getattr(self._rest, "aclose", None)
        if closer is not None:  # stop the upstream when the client goes away
            await closer()
        await self._charge.settle(
            model_id=self._model_id, reported=token_usage(self._usage), text="".join(self._parts)
        )


_FINISHING: set[asyncio.Future[None]] = set()
