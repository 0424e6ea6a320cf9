"""Reporting periods, usage reports and latency percentiles."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from application.usage.get_my_usage import build_report
from domain.errors import InvalidInput
from domain.route_stats import RouteStats
from domain.usage import Period, UsageEntry, UsageTotals, month_key

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("name", "start"),
    [("1d", date(2026, 11, 24)), ("7d", date(2026, 11, 18)), ("30d", date(2026, 10, 26)),
     ("month", date(2026, 11, 1))],
)  # fmt: skip
def test_periods_end_today_and_start_where_their_name_says(name: str, start: date) -> None:
    period = Period.parse(name, TODAY)
    assert (period.start, period.end) == (start, TODAY)


def test_an_unknown_period_names_the_field_in_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        Period.parse("1y", TODAY)
    assert caught.value.details == {
        "fields": [{"field": "period", "message": "period must be one of: 1d, 7d, 30d, month"}]
    }


def test_quota_periods_are_calendar_months() -> None:
    assert month_key(date(2026, 1, 31)) == "2026-01" and month_key(TODAY) == "2026-11"


def test_a_report_has_every_day_and_totals_per_model_and_key() -> None:
    user, key = uuid.uuid4(), uuid.uuid4()
    entries = [
        UsageEntry(date(2026, 11, 20), user, "a", None, UsageTotals(1, 10, 5, Decimal("0.1"))),
        UsageEntry(date(2026, 11, 20), user, "b", key, UsageTotals(2, 20, 10, Decimal("0.2"))),
        UsageEntry(date(2026, 11, 24), user, "a", key, UsageTotals(1, 1, 1, Decimal("0.01"))),
    ]
    report = build_report(Period.parse("7d", TODAY), entries)
    assert [d.day.day for d in report.days] == [18, 19, 20, 21, 22, 23, 24]
    assert [d.totals.messages for d in report.days] == [0, 0, 3, 0, 0, 0, 1]
    assert set(report.days[2].models) == {"a", "b"}
    assert report.totals == UsageTotals(4, 31, 16, Decimal("0.31"))
    assert report.models["a"].messages == 2
    assert report.api_keys[key].messages == 3 and report.api_keys[None].messages == 1


def test_percentiles_interpolate_within_fixed_buckets_and_merge_by_adding() -> None:
    fast, slow = RouteStats(TODAY, "GET", "/x"), RouteStats(TODAY, "GET", "/x")
    for _ in range(90):
        fast.observe(200, 4.0)  # bucket (3, 5] ms
    for _ in range(10):
        slow.observe(500, 400.0)  # bucket (300, 500] ms
    fast.merge(slow)
    assert (fast.requests, fast.errors) == (100, 10)
    p50, p95 = fast.percentile_ms(0.5), fast.percentile_ms(0.95)
    assert p50 is not None and 3 < p50 <= 5
    assert p95 is not None and 300 < p95 <= 500
    assert RouteStats(TODAY, "GET", "/y").percentile_ms(0.5) is None
    decoded = RouteStats.decode_buckets(fast.encode_buckets())
    assert decoded == fast.buckets
