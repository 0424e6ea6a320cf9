"""How hard the router tries: retries, backoff, timeouts and the mid-stream failure policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MidStreamPolicy = Literal["error", "fallback"]


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """Per-provider budget; a stream that breaks one of these timeouts ends with an error."""

    max_retries: int = 2
    first_token_timeout_s: float = 30.0
    idle_timeout_s: float = 30.0
    total_timeout_s: float = 120.0


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """A provider's circuit opens when ``failure_ratio`` of at least ``min_calls`` calls in
    the last ``window_s`` failed; after ``cooldown_s`` one probe call is let through."""

    failure_ratio: float = 0.5
    min_calls: int = 5
    window_s: float = 30.0
    cooldown_s: float = 15.0


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    default_limits: ProviderLimits = ProviderLimits()
    retry_backoff_s: float = 0.25
    max_backoff_s: float = 4.0
    max_retry_after_s: float = 5.0
    mid_stream: MidStreamPolicy = "error"
    breaker: BreakerPolicy = BreakerPolicy()
    max_response_chars: int = 400_000
