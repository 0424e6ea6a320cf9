"""When the next slot frees in the Redis limiter's sliding window, from the raw counters
(counts and TTLs in seconds, as the storage reports them in whole milliseconds)."""

from __future__ import annotations

import pytest

from adapters.redis.rate_limiter import next_slot_frees_in


def test_a_window_read_in_the_millisecond_it_was_created_frees_after_a_full_period() -> None:
    # TTL exactly two periods: the library's own ``ttl % period`` made this "now".
    assert next_slot_frees_in(60.0, 0, 0.0, 2, 120.0) == 60.0


def test_only_the_current_window_counts_until_it_rolls_over() -> None:
    assert next_slot_frees_in(60.0, 0, 0.0, 2, 100.5) == pytest.approx(40.5)


def test_the_previous_window_frees_slots_as_it_decays() -> None:
    # 4 hits in the previous window, 40 s of it left: it counts floor(4 * 40 / 60) = 2,
    # and counts 1 once under 30 s are left, i.e. in 10 s.
    assert next_slot_frees_in(60.0, 4, 40.0, 1, 100.0) == pytest.approx(10.0)


def test_a_previous_window_that_no_longer_counts_waits_for_the_rollover() -> None:
    # floor(1 * 20 / 60) == 0: only the current hit counts, freed at the rollover in 20 s.
    assert next_slot_frees_in(60.0, 1, 20.0, 1, 80.0) == pytest.approx(20.0)


def test_nothing_counted_frees_nothing() -> None:
    assert next_slot_frees_in(60.0, 0, 0.0, 0, 0.0) == 0.0
