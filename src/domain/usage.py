"""Usage accounting: what a user spent, per day, model and API key; and reporting periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final
from uuid import UUID

from domain.errors import InvalidInput

PERIODS: Final = ("1d", "7d", "30d", "month")
CHARS_PER_TOKEN: Final = 3
"""ASCII characters per token in the estimate (BPE tokenizers average about 4 for English
prose; code, numbers and punctuation are denser, 3 covers them)."""


def estimate_tokens(text: str) -> int:
    """The one token estimate, for prompts and for completions a provider did not count.

    It errs on the side of counting more: ASCII text counts one token per 3 characters and
    every other character a whole token (CJK is about one per character). Chat, the gateway
    and quota accounting all use it, so what a client is told is what it was charged.
    """
    ascii_chars = len(text.encode("ascii", "ignore"))
    return -(-ascii_chars // CHARS_PER_TOKEN) + len(text) - ascii_chars


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days from ``start`` to ``end`` inclusive."""

    name: str
    start: date
    end: date

    @classmethod
    def parse(cls, name: str, today: date) -> Period:
        if name == "month":
            return cls(name, today.replace(day=1), today)
        if name in PERIODS:
            days = int(name[:-1])
            return cls(name, today - timedelta(days=days - 1), today)
        message = f"period must be one of: {', '.join(PERIODS)}"
        raise InvalidInput(message, details={"fields": [{"field": "period", "message": message}]})

    def days(self) -> list[date]:
        count = (self.end - self.start).days + 1
        return [self.start + timedelta(days=i) for i in range(count)]


def month_key(day: date) -> str:
    """The quota period a day belongs to: calendar months, UTC."""
    return f"{day.year:04d}-{day.month:02d}"


def seconds_until_next_month(now: datetime) -> float:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    return max(1.0, (following - now).total_seconds())


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """``messages`` counts requests that reached a model (chat turns and /v1 completions)."""

    messages: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: UsageTotals) -> UsageTotals:
        return UsageTotals(
            self.messages + other.messages,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """One aggregate row: a user's spending on one day, one model, through one API key
    (``None``: signed-in sessions). Requests add to the row; they never get one each."""

    day: date
    user_id: UUID
    model: str
    api_key_id: UUID | None
    totals: UsageTotals

    @property
    def key(self) -> tuple[date, UUID, str, UUID | None]:
        return (self.day, self.user_id, self.model, self.api_key_id)
