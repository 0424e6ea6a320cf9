"""SpendGuard: the seam between use cases that call models and quota/usage accounting.

A use case reserves before its first upstream call (a refusal means zero upstream calls),
uses the granted ``max_tokens``, and settles once with the real usage, or releases when
nothing reached the model. ``UnmeteredSpending`` is the default for wiring without quotas.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from application.ports.quota_ledger import Hold
from application.ports.unit_of_work import UnitOfWork
from domain.catalog import ModelSpec


@dataclass(frozen=True, slots=True)
class SpendRequest:
    user_id: UUID
    plan: str | None
    """The caller's plan; None: read from the account (callers without a principal)."""
    api_key_id: UUID | None
    model: ModelSpec
    prompt_tokens: int
    """Estimated prompt size."""
    max_tokens: int
    """Completion tokens wanted, already bounded by the model's and the server's caps."""
    stream: bool = False
    """Streams also take one of the plan's concurrent-stream slots until settled."""
    counts_as_message: bool = True
    """A reply the user asked for counts against ``monthly_messages``; background work the
    system starts for them (conversation titles) spends tokens only."""


@dataclass(frozen=True, slots=True)
class SpendTicket:
    """What the caller carries from reserve to settle. ``max_tokens`` may be lower than
    asked when the remaining quota is short: pass it upstream."""

    user_id: UUID
    api_key_id: UUID | None
    model_id: str
    max_tokens: int
    stream: bool = False
    hold: Hold | None = None
    counts_as_message: bool = True


class SpendGuard(Protocol):
    @abstractmethod
    async def reserve(self, request: SpendRequest, uow: UnitOfWork | None = None) -> SpendTicket:
        """Raise QUOTA_EXCEEDED / TOO_MANY_STREAMS (429), MODEL_NOT_IN_PLAN (403), or
        QUOTA_UNAVAILABLE (503) when accounting is down: never spend unaccounted.

        A caller inside an open unit of work passes it: the guard's reads (the account's
        plan, the month's usage) then share its connection. Taking a second connection
        while holding one deadlocks a pool of N under N concurrent requests."""

    @abstractmethod
    async def settle(
        self, ticket: SpendTicket, *, model_id: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        """Record what was spent (by the model that actually answered). Never raises."""

    @abstractmethod
    async def release(self, ticket: SpendTicket) -> None:
        """Nothing was spent (the call failed before the model answered). Never raises."""


class UnmeteredSpending(SpendGuard):
    """No quotas, no accounting: grants what is asked."""

    async def reserve(self, request: SpendRequest, uow: UnitOfWork | None = None) -> SpendTicket:
        return SpendTicket(
            request.user_id,
            request.api_key_id,
            request.model.id,
            request.max_tokens,
            request.stream,
            counts_as_message=request.counts_as_message,
        )

    async def settle(
        self, ticket: SpendTicket, *, model_id: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        return None

    async def release(self, ticket: SpendTicket) -> None:
        return None
