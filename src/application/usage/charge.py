"""Charge: one quota reservation, closed exactly once.

Chat turns and gateway completions both reserve before their first upstream call and
close the reservation once the outcome is known: settled with what was spent, or released
when nothing was produced. A ``Charge`` holds that rule in one place, so no caller keeps its
own "release on error" blocks and no reservation is settled twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from application.ports.spend_guard import SpendGuard, SpendRequest, SpendTicket
from application.ports.unit_of_work import UnitOfWork
from domain.messages import TokenUsage
from domain.usage import estimate_tokens


class Charge:
    __slots__ = ("_guard", "_ticket", "charged", "closed", "prompt_tokens")

    def __init__(self, guard: SpendGuard, ticket: SpendTicket, prompt_tokens: int) -> None:
        self._guard = guard
        self._ticket = ticket
        self.prompt_tokens = prompt_tokens
        self.closed = False
        self.charged: TokenUsage | None = None
        """What was settled (None until then, and after a release)."""

    @classmethod
    async def reserve(
        cls, guard: SpendGuard, request: SpendRequest, uow: UnitOfWork | None = None
    ) -> Charge:
        """Raises the guard's refusals (quota, streams, model not in plan): nothing held."""
        ticket = await (guard.reserve(request, uow) if uow is not None else guard.reserve(request))
        return cls(guard, ticket, request.prompt_tokens)

    @property
    def max_tokens(self) -> int:
        """The completion budget granted (may be below what was asked): send this upstream."""
        return self._ticket.max_tokens

    async def settle(
        self, *, model_id: str | None, reported: TokenUsage | None, text: str
    ) -> TokenUsage | None:
        """Charge the provider's count, else the domain's estimate of ``text`` over the
        estimated prompt; no count and no text is a release. Returns what was charged."""
        if self.closed:
            return self.charged
        usage = reported
        if usage is None and text:
            usage = TokenUsage(self.prompt_tokens, estimate_tokens(text))
        if usage is None:
            await self.release()
            return None
        self.closed = True
        self.charged = usage
        await self._guard.settle(
            self._ticket,
            model_id=model_id or self._ticket.model_id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
        return usage

    async def release(self) -> None:
        """Nothing was spent. Idempotent, and a no-op once settled."""
        if self.closed:
            return
        self.closed = True
        await self._guard.release(self._ticket)

    @contextlib.asynccontextmanager
    async def released_on_error(self) -> AsyncIterator[Charge]:
        """Whatever escapes the block (an upstream error, a cancelled caller) releases the
        reservation unless it was closed already."""
        try:
            yield self
        except BaseException:
            await self.release()
            raise
