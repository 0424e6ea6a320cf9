"""Instructions per /v1 request under callgrind: a figure the machine's load cannot move.

    .venv/bin/python -m bench.instructions --backend sqlite /tmp/base /work/this-checkout

Each checkout's ``src`` is served in turn (``parley serve``, one worker, under
``valgrind --tool=callgrind`` with instrumentation off until the measured run), warmed up,
then driven at concurrency 1 for ``--seconds`` of non-streaming and then streaming
``/v1/chat/completions`` against the instant mock upstream. Printed: instructions of the
server process per request, less what it runs idle (its background loops, measured for
as long just before), which would otherwise be spread over however many requests a
checkout managed to serve under valgrind.
Valgrind makes the server some 50x slower, so expect tens of requests, not thousands.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import glob
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import bench.gateway as gateway
from bench.loadgen import Run, load
from tests.support.backends import postgres_backend, sqlite_backend
from tests.support.mock_openai import MockUpstream


def _under_callgrind(out: Path) -> Any:
    real = subprocess.Popen

    def popen(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        if "entrypoints.cli" in cmd:
            prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
            cmd = [*prefix, f"--callgrind-out-file={out}/cg.%p", *cmd]
        return real(cmd, *args, **kwargs)

    return popen


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], capture_output=True, check=False)


def _dumps(out: Path, pid: int) -> list[str]:
    return glob.glob(f"{out}/cg.{pid}.*")


def _instructions(out: Path, pid: int, before: int) -> int:
    """Instructions in the dump ``callgrind_control -d`` asked for (numbered ``.<n>``), once
    it is written whole (valgrind writes it when the loaded process gets to it)."""
    for _ in range(600):
        dumps = sorted(_dumps(out, pid), key=lambda name: int(name.rsplit(".", 1)[1]))
        if len(dumps) > before:
            with open(dumps[-1]) as dump:
                totals = [line for line in dump if line.startswith("totals:")]
            if totals:
                return int(totals[-1].split()[1])
        time.sleep(0.1)
    raise RuntimeError("callgrind wrote no dump")


def _measured(out: Path, pid: int, during: Any) -> int:
    """Instructions the server ran while ``during()`` ran."""
    _control("-z", str(pid))
    _control("-i", "on", str(pid))
    during()
    _control("-i", "off", str(pid))
    before = len(_dumps(out, pid))
    _control("-d", str(pid))
    return _instructions(out, pid, before)


def _drive(runs: list[Run], where: tuple[Any, ...], token: str, seconds: float) -> None:
    runs.append(asyncio.run(load(*where, token, 1, seconds, warmup_s=0)))


def main() -> None:
    parser = argparse.ArgumentParser(description="instructions per /v1 request")
    parser.add_argument("roots", nargs="+", help="checkouts to serve, one after another")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MockUpstream.start_process(tokens=12) as mock:
        out = Path(tmp)
        gateway.subprocess.Popen = _under_callgrind(out)  # type: ignore[assignment]
        ready = gateway.wait_http
        gateway.wait_http = lambda url, p, timeout_s=60: ready(url, p, 900)  # type: ignore[assignment]
        for index, root in enumerate(args.roots):
            data = out / f"t{index}"
            data.mkdir()
            make = postgres_backend if args.backend == "postgres" else sqlite_backend
            backend = make(data)
            try:
                with gateway.parley(root, backend, mock, data / "srv", 1, Path(root)) as target:
                    assert target.pid is not None
                    for stream in (False, True):
                        raw = json.dumps({**gateway.BODY, "stream": stream}).encode()
                        where = ("127.0.0.1", target.port, "/v1/chat/completions", raw)
                        asyncio.run(load(*where, target.token, 1, 5))  # warm
                        idle = _measured(out, target.pid, lambda: time.sleep(args.seconds))
                        idle_per_s = idle / args.seconds
                        started = time.perf_counter()
                        runs: list[Run] = []
                        drive = functools.partial(_drive, runs, where, target.token, args.seconds)
                        busy = _measured(out, target.pid, drive)
                        elapsed = time.perf_counter() - started
                        run = runs[0]
                        sent = len(run.samples) + run.warmup_requests
                        per = (busy - idle_per_s * elapsed) / max(1, sent) / 1e6
                        errors = f", errors {dict(run.errors)}" if run.errors else ""
                        kind = "stream" if stream else "non-stream"
                        idle_m = idle_per_s / 1e6
                        print(f"{root} {args.backend} {kind}: {sent} requests, {per:.3f} M "
                              f"instructions/request (idle {idle_m:.1f} M/s subtracted){errors}",
                              flush=True)  # fmt: skip
            finally:
                for clean in backend.cleanup:
                    clean()


if __name__ == "__main__":
    main()
