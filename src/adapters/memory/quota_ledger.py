"""In-process quota ledger for the embedded mode (one process, so no locks are needed:
each method runs to completion without awaiting, which makes it atomic under asyncio)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from application.ports.quota_ledger import (
    Hold,
    QuotaAsk,
    QuotaLedger,
    QuotaLimits,
    QuotaState,
    Reservation,
)


@dataclass(slots=True)
class _Account:
    periods: dict[str, list[int]] = field(default_factory=dict)  # period -> [tokens, messages]
    holds: dict[str, tuple[Hold, float]] = field(default_factory=dict)  # id -> (hold, expiry)


class MemoryQuotaLedger(QuotaLedger):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._accounts: dict[str, _Account] = {}

    async def reserve(
        self, account: str, period: str, ask: QuotaAsk, limits: QuotaLimits, ttl_s: float
    ) -> Reservation:
        entry = self._accounts.get(account)
        if entry is None or period not in entry.periods:
            return Reservation()
        self._expire(entry)
        state = _state(entry, period)
        if ask.stream and limits.streams is not None and state.streams_open >= limits.streams:
            return Reservation(denied="streams", state=state)
        messages_after = state.messages_used + state.messages_held + ask.messages
        if limits.messages is not None and messages_after > limits.messages:
            return Reservation(denied="messages", state=state)
        grant = ask.tokens
        if limits.tokens is not None:
            left = limits.tokens - state.tokens_used - state.tokens_held
            if left < ask.min_tokens:
                return Reservation(denied="tokens", state=state)
            grant = min(grant, left)
        hold = Hold(uuid.uuid4().hex, account, period, grant, ask.messages, ask.stream)
        entry.holds[hold.id] = (hold, self._clock() + ttl_s)
        return Reservation(hold=hold, state=state)

    async def settle(self, hold: Hold, *, tokens: int, messages: int) -> None:
        entry = self._accounts.setdefault(hold.account, _Account())
        entry.holds.pop(hold.id, None)
        counters = entry.periods.setdefault(hold.period, [0, 0])
        counters[0] += max(0, tokens)
        counters[1] += max(0, messages)

    async def seed(self, account: str, period: str, *, tokens: int, messages: int) -> None:
        entry = self._accounts.setdefault(account, _Account())
        if period in entry.periods:
            return
        # A new month makes the older ones irrelevant: keep memory bounded per account.
        entry.periods = {period: [tokens, messages]}

    async def state(self, account: str, period: str) -> QuotaState | None:
        entry = self._accounts.get(account)
        if entry is None or period not in entry.periods:
            return None
        self._expire(entry)
        return _state(entry, period)

    def _expire(self, entry: _Account) -> None:
        now = self._clock()
        for hold_id in [h for h, (_, expiry) in entry.holds.items() if expiry <= now]:
            del entry.holds[hold_id]


def _state(entry: _Account, period: str) -> QuotaState:
    tokens, messages = entry.periods[period]
    holds = [hold for hold, _ in entry.holds.values()]
    return QuotaState(
        tokens_used=tokens,
        messages_used=messages,
        tokens_held=sum(h.tokens for h in holds),
        messages_held=sum(h.messages for h in holds),
        streams_open=sum(1 for h in holds if h.stream),
    )
