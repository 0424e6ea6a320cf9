"""Tables for bench/chat.py: percentiles, what Parley adds over the direct upstream, ratios."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from bench.chat_clients import Stream


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def print_streams(clients: int, results: dict[str, list[Stream]]) -> None:
    print(
        f"{clients} concurrent streams   ok/total   ttft p50   p99 |  +ttft p50   +p99 |"
        "  gap p50   p99  ratio | chunks"
    )
    base = [s for s in results["direct"] if not s.error]
    base_ttft = [s.ttft_s for s in base if s.ttft_s is not None]
    base_gaps = [g for s in base for g in s.gaps_s]
    for name, streams in results.items():
        ok = [s for s in streams if not s.error and s.ttft_s is not None]
        ttft = [s.ttft_s for s in ok if s.ttft_s is not None]
        gaps = [g for s in ok for g in s.gaps_s]
        added, ratio = "", ""
        if name != "direct":
            plus50 = pct(ttft, 50) - pct(base_ttft, 50)
            plus99 = pct(ttft, 99) - pct(base_ttft, 99)
            added = f"{plus50:>+9.1f} {plus99:>+7.1f}"
            ratio = f"{pct(gaps, 50) / pct(base_gaps, 50):.2f}x"
        chunks = sum(len(s.arrivals) for s in ok) / max(1, len(ok))
        counts = f"{len(ok):>5}/{len(streams):<5}"
        timing = f"{pct(ttft, 50):>8.1f} {pct(ttft, 99):>6.1f}"
        spacing = f"{pct(gaps, 50):>7.1f} {pct(gaps, 99):>6.1f} {ratio:>6}"
        print(f"  {name:<22} {counts} {timing} | {added:>17} | {spacing} | {chunks:.1f}")
        errors = Counter(s.error for s in streams if s.error)
        if errors:
            print(f"    errors: {dict(errors)}")


def print_turns(clients: int, ok: int, failed: int, seconds: float, latencies: list[float]) -> None:
    print(
        f"stored turns (non-streaming POST .../messages, instant fake model), {clients} clients: "
        f"{ok / seconds:.0f} turns/s, p50 {pct(latencies, 50):.1f} ms, "
        f"p99 {pct(latencies, 99):.1f} ms ({ok} stored, {failed} refused in {seconds:.1f} s)"
    )


_LOGGED = re.compile(r"\[(warning|error|critical)\s*\]\s+(\S+)(?:.*?\bcode=(\S+))?")


def print_server_warnings(log_text: str) -> None:
    """What the server complained about during the run (overload shows up here)."""
    counts = Counter(":".join(g for g in m.groups() if g) for m in _LOGGED.finditer(log_text))
    if counts:
        print("server warnings and errors:", dict(counts.most_common(12)))
