"""Grounded replies: what asking context sources adds to a stored chat turn.

    .venv/bin/python bench/grounding.py [--turns 200]

One `parley serve` (embedded SQLite, instant fake model) and the reference context
service (tests/support/context_service.py, its own process). Non-streaming turns, one
after another, on conversations grounded on: nothing; one `http` source that answers at
once; the same plus a source that hangs past its 300 ms timeout; `history`. Reported: p50
and p95 turn latency per case and the ratio to the ungrounded turn. Loopback only; the
client, the server and the source share this machine's cores: read ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
from tests.support.backends import sqlite_backend  # noqa: E402
from tests.support.context_process import run_context_service  # noqa: E402
from tests.support.server import run_server  # noqa: E402

CASES = {
    "none": [],
    "http ok": ["ok"],
    "http ok + one hanging (300 ms timeout)": ["ok", "hangs"],
    "history": ["history"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-grounding-"))
    backend = sqlite_backend(tmp / "db")
    with run_context_service() as service:
        config = tmp / "parley.toml"
        config.write_text(
            f'[context_sources.ok]\nkind = "http"\nurl = "{service.url}/ok"\n'
            f'[context_sources.hangs]\nkind = "http"\nurl = "{service.url}/slow?ms=5000"\n'
            'timeout_ms = 300\n[context_sources.history]\nkind = "history"\n'
        )
        env = {
            **backend.env,
            "PARLEY_CONFIG": str(config),
            "PARLEY_LIMITS_ENABLED": "false",
            "PARLEY_AUTH_DEFAULT_PLAN": "unlimited",
        }
        with run_server(env, tmp) as server, httpx.Client(base_url=server.base_url) as http:
            token = http.post(
                "/api/v1/auth/register",
                json={"email": "bench@example.com", "password": "Bench-password-1"},
            ).json()["access_token"]
            me = {"Authorization": f"Bearer {token}"}
            rows = []
            for name, sources in CASES.items():
                cid = http.post(
                    "/api/v1/conversations", json={"context_sources": sources}, headers=me
                ).json()["id"]
                turns = args.turns if "hanging" not in name else max(10, args.turns // 10)
                took = []
                for i in range(turns + 5):
                    started = time.perf_counter()
                    sent = http.post(
                        f"/api/v1/conversations/{cid}/messages",
                        json={"content": f"where is order {i}?"},
                        headers=me,
                        timeout=30,
                    )
                    assert sent.status_code == 201, sent.text
                    if i >= 5:  # warm-up
                        took.append((time.perf_counter() - started) * 1000)
                took.sort()
                rows.append((name, turns, statistics.median(took), took[int(len(took) * 0.95)]))
    base = rows[0][2]
    print(f"{'sources':<42} {'turns':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10}")
    for name, turns, p50, p95 in rows:
        print(f"{name:<42} {turns:>6} {p50:>8.1f} {p95:>8.1f} {p50 / base:>10.2f}")


if __name__ == "__main__":
    main()
