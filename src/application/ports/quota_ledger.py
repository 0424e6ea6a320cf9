"""QuotaLedger: reserve before calling a model, settle after with what was really spent.

Counts per account (a user) and period (a calendar month): settled tokens and messages,
plus live *holds* — reservations not settled yet. A reservation is granted only if the
settled amounts, the live holds and the new ask together stay within the limits, decided
atomically (across instances for shared backends), so concurrent requests cannot overspend.
Holds expire on their own (``ttl_s``): a process that dies mid-request frees its holds.

The ledger starts a period *unseeded*: the caller seeds it once from the usage ledger
(the database), so a restart or a flushed Redis does not hand out a fresh month.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Literal, Protocol

from domain.errors import Unavailable

Denial = Literal["tokens", "messages", "streams"]


class QuotaLedgerUnavailable(Unavailable):
    """The ledger's backend is down: nothing may be spent without a reservation."""

    code = "QUOTA_UNAVAILABLE"
    title = "Quota accounting unavailable"


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """``None``: unlimited."""

    tokens: int | None = None
    messages: int | None = None
    streams: int | None = None


@dataclass(frozen=True, slots=True)
class QuotaAsk:
    """``tokens`` is the most wanted (prompt estimate + max completion); ``min_tokens`` the
    fewest worth calling the model with. The grant lies between them when quota is short."""

    tokens: int
    min_tokens: int
    messages: int = 1
    stream: bool = False


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    account: str
    period: str
    tokens: int
    messages: int
    stream: bool


@dataclass(frozen=True, slots=True)
class QuotaState:
    tokens_used: int = 0
    messages_used: int = 0
    tokens_held: int = 0
    messages_held: int = 0
    streams_open: int = 0


@dataclass(frozen=True, slots=True)
class Reservation:
    """Granted (``hold`` set), denied (``denied`` set), or neither: the period is unseeded."""

    hold: Hold | None = None
    denied: Denial | None = None
    state: QuotaState | None = None

    @property
    def needs_seed(self) -> bool:
        return self.hold is None and self.denied is None


class QuotaLedger(Protocol):
    @abstractmethod
    async def reserve(
        self, account: str, period: str, ask: QuotaAsk, limits: QuotaLimits, ttl_s: float
    ) -> Reservation:
        """Atomically grant a hold within ``limits``, or say why not."""

    @abstractmethod
    async def settle(self, hold: Hold, *, tokens: int, messages: int) -> None:
        """Drop the hold and count what was really spent (zeros: a release)."""

    @abstractmethod
    async def seed(self, account: str, period: str, *, tokens: int, messages: int) -> None:
        """Start an unseeded period at these totals; a seeded period is left alone."""

    @abstractmethod
    async def state(self, account: str, period: str) -> QuotaState | None:
        """Settled and held amounts now; ``None`` if the period is unseeded."""
