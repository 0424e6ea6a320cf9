"""How jobs are run: attempts, leases, heartbeats, timeouts (from settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobPolicy:
    max_attempts: int = 3
    lease_s: float = 30.0
    """A running job whose lease is not renewed for this long has lost its worker."""
    heartbeat_s: float = 0.5
    """How often a running job renews its lease and checks for a cancel (cancel latency)."""
    timeout_s: float = 3600.0
    retry_delay_s: float = 1.0
    """Delay before the second attempt; doubled each time, capped at ``retry_max_delay_s``."""
    retry_max_delay_s: float = 60.0
    requeue_after_s: float = 30.0
    """The recovery sweep re-delivers jobs queued longer than this (a lost enqueue)."""

    def retry_delay(self, attempts: int) -> float:
        delay: float = self.retry_delay_s * 2.0 ** max(0, attempts - 1)
        return min(self.retry_max_delay_s, delay)
