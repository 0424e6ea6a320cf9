"""Limit strings such as ``1/second;10/minute`` or ``5 per 10 seconds``: one or more windows."""

from __future__ import annotations

import functools
import re

from application.ports.rate_limiter import RateLimit

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_ALIASES = {"s": "second", "sec": "second", "m": "minute", "min": "minute", "h": "hour", "d": "day"}
_WINDOW = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*([a-z]+?)s?\s*$")


@functools.lru_cache(maxsize=64)
def parse_limit_string(text: str) -> tuple[RateLimit, ...]:
    """Windows of ``text`` ordered shortest first; ``ValueError`` names what is wrong.

    The one check of a limit string: settings loading parses each once (naming the
    setting on failure) and building the policy gets the same answer from the cache.

    Windows are separated by ``;``; each is ``<amount>/<unit>`` or
    ``<amount> per <n> <unit>`` with units second, minute, hour, day (plural or short).
    """
    windows: list[RateLimit] = []
    for part in filter(str.strip, text.split(";")):
        match = _WINDOW.match(part.lower())
        if match is None:
            raise ValueError(f"not a limit window: {part.strip()!r} (e.g. '10/minute')")
        amount, count, unit = int(match[1]), int(match[2] or 1), match[3]
        unit = _ALIASES.get(unit, unit)
        if unit not in _UNITS:
            raise ValueError(f"unknown unit {match[3]!r} in {part.strip()!r}")
        if amount < 1 or count < 1:
            raise ValueError(f"a window needs a positive amount and period: {part.strip()!r}")
        windows.append(RateLimit(amount, count * _UNITS[unit]))
    if not windows:
        raise ValueError("an empty limit string")
    return tuple(sorted(windows, key=lambda w: w.period_s))


def describe_window(limit: RateLimit) -> str:
    """``10 per minute``, ``5 per 10 seconds``: how a 429 names the window that was hit."""
    for unit, seconds in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if limit.period_s % seconds == 0:
            count = limit.period_s // seconds
            return (
                f"{limit.amount} per {unit}"
                if count == 1
                else (f"{limit.amount} per {count} {unit}s")
            )
    return f"{limit.amount} per {limit.period_s} seconds"  # pragma: no cover - seconds divide all
