"""Per-route request statistics: counts, errors and a fixed-bucket latency histogram.

Fixed buckets make histograms from many processes and days mergeable by adding counts,
and keep each route's state a few hundred bytes however many requests it serves.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from typing import Final

# Upper bounds in milliseconds; the last bucket is everything slower.
BUCKETS_MS: Final = (
    1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
    1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 30_000, 60_000,
)  # fmt: skip


@dataclass(slots=True)
class RouteStats:
    """One route template (with method) on one day, as seen by one or more processes."""

    day: date
    method: str
    route: str
    requests: int = 0
    errors: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))

    def observe(self, status: int, duration_ms: float) -> None:
        self.requests += 1
        if status >= 500:
            self.errors += 1
        self.buckets[bisect_left(BUCKETS_MS, duration_ms)] += 1

    def merge(self, other: RouteStats) -> None:
        self.requests += other.requests
        self.errors += other.errors
        for i, count in enumerate(other.buckets):
            self.buckets[i] += count

    def percentile_ms(self, q: float) -> float | None:
        """Estimated by interpolating inside the bucket that holds the q-th request."""
        total = sum(self.buckets)
        if total == 0:
            return None
        rank = q * total
        seen = 0
        for i, count in enumerate(self.buckets):
            if count and seen + count >= rank:
                low = BUCKETS_MS[i - 1] if i > 0 else 0.0
                high = BUCKETS_MS[i] if i < len(BUCKETS_MS) else BUCKETS_MS[-1]
                return round(low + (high - low) * (rank - seen) / count, 2)
            seen += count
        return float(BUCKETS_MS[-1])

    def encode_buckets(self) -> str:
        return ",".join(map(str, self.buckets))

    @staticmethod
    def decode_buckets(text: str) -> list[int]:
        counts = [int(x) for x in text.split(",") if x]
        size = len(BUCKETS_MS) + 1
        return (counts + [0] * size)[:size]
