"""P1/P2/P6 gateway benchmark, side by side in one run: the mock upstream hit directly, through
Parley's /v1/chat/completions (one worker, auth on, a real API key, limits and quota
accounting on), in each storage mode, and through LiteLLM's proxy (one worker) when a venv
with it exists at /tmp/litellm-venv. Also stored chat turns through Parley (instant fake
model), cold start and RSS; optionally `parley serve --workers 2` beside one worker.

    .venv/bin/python -m bench.gateway [--seconds 3] [--backend sqlite,postgres]
        [--concurrency 1,10,64] [--stream-concurrency 1,10] [--workers 1]
        [--profile /tmp/v1.svg] [--baseline /tmp/base]

``--workers 1,2`` adds a two-worker Parley per server-backed mode (the embedded default
refuses more than one worker). ``--baseline DIR`` serves another checkout's ``src`` beside
each Parley target (its own database), measured back to back with it at every level: an
A/B comparison in one run. ``--profile`` records py-spy on the first Parley target
while it serves non-streaming /v1 at ``--profile-concurrency`` (10; ``.txt``: collapsed
stacks).

The machine is shared and noisy: read the ratios, never one absolute figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench.loadgen import Run, load
from tests.e2e.gateway_support import register_with_api_key
from tests.support.backends import Backend, postgres_backend, sqlite_backend
from tests.support.mock_openai import MockUpstream, free_port
from tests.support.server import ROOT

LITELLM = Path(os.environ.get("LITELLM_VENV", "/tmp/litellm-venv")) / "bin" / "litellm"
# Rate limits and quota accounting stay on (every request is counted, reserved and
# settled), with ceilings a benchmark cannot reach.
LIMITS_ON_BUT_HIGH = (
    "[limits]\nchat_per_minute = 100000000\ndefault_per_minute = 100000000\n"
    "[plans.free]\nmonthly_tokens = 1000000000000\nmonthly_messages = 1000000000000\n"
    "concurrent_streams = 2000\n"
)
BODY = {"model": "mock-model", "messages": [{"role": "user", "content": "Say hello"}]}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    name: str
    port: int
    token: str
    pid: int | None = None
    cold_s: float = float("nan")
    rss_rest_mib: float = float("nan")
    conversations: list[str] = field(default_factory=list)
    redis_url: str | None = None


def redis_counts(url: str | None) -> tuple[int, int]:
    """(read events, commands) the Redis server has processed so far: with a Redis of the
    benchmark's own (``PARLEY_TEST_REDIS_URL``), the round trips the target made. Commands
    include those Lua scripts call, so only the read events say how many round trips."""
    if url is None:
        return 0, 0
    import redis

    client = redis.Redis.from_url(url)
    try:
        stats = client.info("stats")
    finally:
        client.close()
    return int(stats["total_reads_processed"]), int(stats["total_commands_processed"])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes)."""
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        with contextlib.suppress(OSError):
            for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
                pids.append(int(child))
                frontier.append(int(child))
    return pids


def rss_mib(pid: int | None) -> float:
    """Resident memory of a process and its children (all of a multi-worker server)."""
    if pid is None:
        return float("nan")
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_s(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def wait_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - started
        time.sleep(0.01)
    raise RuntimeError(f"{url} not ready")


@contextlib.contextmanager
def parley(
    name: str, backend: Backend, mock: MockUpstream, tmp: Path, workers: int, root: Path = ROOT
) -> Iterator[Target]:
    """`parley serve` on ``backend`` with two models: ``mock-model`` (the mock upstream,
    for /v1) and ``parley-fake`` (instant fake model, the default for stored turns).
    ``root``: the checkout whose ``src`` is served (another one for a baseline)."""
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "parley.toml"
    config.write_text(
        f'[llm]\nmodel = "parley-fake"\n[providers.mock]\nbase_url = "{mock.url}"\n'
        'api_key_env = "MOCK_KEY"\n[[models]]\nid = "parley-fake"\nprovider = "default"\n'
        '[[models]]\nid = "mock-model"\nprovider = "mock"\n' + LIMITS_ON_BUT_HIGH
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    full = {**base, "PARLEY_DATA_DIR": str(tmp), **backend.env, "PYTHONPATH": str(root / "src")}
    full |= {
        "PARLEY_CONFIG": str(config),
        "MOCK_KEY": "sk-mock",
        "PARLEY_ENV": "production",
        "PARLEY_SECRET_KEY": secrets.token_urlsafe(48),
        "PARLEY_LOG_LEVEL": "warning",
        "PARLEY_DATABASE_POOL_SIZE": "20",
    }
    port = free_port()
    full["PARLEY_PORT"] = str(port)
    cmd = [sys.executable, "-m", "entrypoints.cli", "serve", "--no-migrate"]
    cmd += ["--workers", str(workers)]
    log = (tmp / "parley.log").open("wb")
    process = subprocess.Popen(cmd, env=full, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    try:
        cold = wait_http(f"http://127.0.0.1:{port}/health/ready", process)
        base_url = f"http://127.0.0.1:{port}"
        account = register_with_api_key(base_url)
        conversations = []
        for _ in range(64):  # stored turns: each client its own conversation
            made = httpx.post(
                f"{base_url}/api/v1/conversations",
                json={},
                headers={"Authorization": f"Bearer {account.api_key}"},
                timeout=10,
            )
            made.raise_for_status()
            conversations.append(made.json()["id"])
        time.sleep(1.0)  # background startup work (index catch-up) settles before "at rest"
        yield Target(
            name, port, account.api_key, process.pid, cold, rss_mib(process.pid), conversations,
            backend.env.get("PARLEY_REDIS_URL"),
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextlib.contextmanager
def litellm(mock: MockUpstream, tmp: Path) -> Iterator[Target | None]:
    if not LITELLM.exists():
        yield None
        return
    config = tmp / "litellm.yaml"
    master_key = f"sk-{secrets.token_hex(16)}"  # auth on, like Parley's
    config.write_text(
        "model_list:\n  - model_name: mock-model\n    litellm_params:\n"
        f"      model: openai/mock-model\n      api_base: {mock.url}\n      api_key: sk-mock\n"
        f"general_settings:\n  master_key: {master_key}\n"
    )
    port = free_port()
    cmd = [str(LITELLM), "--config", str(config), "--port", str(port), "--num_workers", "1"]
    log = (tmp / "litellm.log").open("wb")
    env = {**os.environ, "LITELLM_LOG": "ERROR"}
    process = subprocess.Popen(cmd, cwd=tmp, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        cold = wait_http(f"http://127.0.0.1:{port}/health/liveliness", process, timeout_s=180)
        time.sleep(1.0)
        yield Target("litellm", port, master_key, process.pid, cold, rss_mib(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=20)


def measure(target: Target, stream: bool, concurrency: int, seconds: float) -> Run:
    """One load run; ``run.cpu_ms`` is the target's own CPU per request (all its processes)."""
    body: dict[str, object] = dict(BODY)
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    raw = json.dumps(body).encode()
    cpu0, redis0 = cpu_s(target.pid), redis_counts(target.redis_url)
    run = asyncio.run(
        load(
            "127.0.0.1", target.port, "/v1/chat/completions", raw, target.token, concurrency,
            seconds,
        )
    )  # fmt: skip
    sent = max(1, len(run.samples) + run.warmup_requests)
    run.cpu_ms = (cpu_s(target.pid) - cpu0) * 1000 / sent
    if target.redis_url is not None:
        reads, commands = redis_counts(target.redis_url)
        run.redis_reads = (reads - redis0[0] - 1) / sent  # less the counting read itself
        run.redis_commands = (commands - redis0[1] - 1) / sent
    return run


def measure_turns(target: Target, concurrency: int, seconds: float) -> tuple[Run, float]:
    """Stored non-streaming chat turns (instant fake model): the run and server CPU ms/turn."""
    paths = [f"/api/v1/conversations/{c}/messages" for c in target.conversations[:concurrency]]
    raw = json.dumps({"content": "Say hello"}).encode()
    host, port, token = "127.0.0.1", target.port, target.token
    asyncio.run(load(host, port, "", raw, token, concurrency, 0.5, paths, warmup_s=0))
    cpu0 = cpu_s(target.pid)
    run = asyncio.run(load(host, port, "", raw, token, concurrency, seconds, paths, warmup_s=0))
    used = cpu_s(target.pid) - cpu0
    return run, used * 1000 / max(1, len(run.samples))


def cell(base: Run, run: Run, stream: bool) -> str:
    text = f"{run.rps:>6.0f} {run.rps / base.rps:>5.2f}x {run.pct(50) - base.pct(50):>+7.2f}"
    text += f" {run.cpu_ms:>5.2f}"
    if run.redis_reads == run.redis_reads:  # measured (not NaN)
        text += f" {run.redis_reads:>4.2f}rt"
    if stream:
        text += f" {run.pct(50, ttft=True) - base.pct(50, ttft=True):>+7.2f}"
        text += f" {run.pct(99, ttft=True) - base.pct(99, ttft=True):>+7.2f}"
    if run.errors:
        text += f" (errors: {dict(run.errors)} {run.first_error[:160]!r})"
    return text


@contextlib.contextmanager
def profiling(pid: int | None, path: str) -> Iterator[None]:
    if not path or pid is None:
        yield
        return
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "-o", path, "--pid", str(pid),
         "--rate", "250", "--nonblocking", "--subprocesses",
         *(["--format", "raw"] if path.endswith(".txt") else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)
    try:
        yield
    finally:
        spy.send_signal(2)
        spy.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description="gateway benchmark")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--backend", default="sqlite,postgres")
    parser.add_argument("--concurrency", default="1,10,64")
    parser.add_argument("--stream-concurrency", default="1,10")
    parser.add_argument("--turn-concurrency", default="10")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--profile", default="")
    parser.add_argument(
        "--baseline",
        default="",
        help="another checkout (git worktree add /tmp/base main): served beside this one, "
        "per backend, measured back to back with it at every level",
    )
    parser.add_argument("--profile-concurrency", type=int, default=10)
    parser.add_argument(
        "--profile-stream", action="store_true", help="profile the streaming run instead"
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c]
    stream_levels = [int(c) for c in args.stream_concurrency.split(",") if c]
    turn_levels = [int(c) for c in args.turn_concurrency.split(",") if c]
    worker_counts = [int(w) for w in args.workers.split(",")]
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        mock = stack.enter_context(MockUpstream.start_process(tokens=12))
        direct = Target("direct", mock.port, "sk-mock")
        targets: list[Target] = []
        roots = [("", ROOT)]
        if args.baseline:
            roots.insert(0, (" (base)", Path(args.baseline).resolve()))
        for name in args.backend.split(","):
            label = "pg+redis" if name == "postgres" else "sqlite"
            for workers in worker_counts:
                for suffix, root in roots:  # each its own database and key prefix
                    data = tmp / f"{name}-w{workers}{suffix.strip(' ()')}"
                    data.mkdir()
                    make = postgres_backend if name == "postgres" else sqlite_backend
                    backend = make(data)
                    stack.callback(lambda b=backend: [fn() for fn in b.cleanup])
                    if workers > 1 and not backend.uses_redis:
                        continue  # refused: in-process adapters are per process
                    title = f"parley {label}" + (f"-w{workers}" if len(worker_counts) > 1 else "")
                    server = parley(title + suffix, backend, mock, data / "srv", workers, root)
                    targets.append(stack.enter_context(server))
        parleys = list(targets)
        profiled = next(t for t in parleys if not t.name.endswith("(base)"))
        if not args.no_litellm:
            lite = stack.enter_context(litellm(mock, tmp))
            if lite:
                targets.append(lite)
        print("one run, machine shared (2 cores; load generator, mock, servers, PG, Redis)")
        print(f"{'':<8}" + "".join(f"| {t.name:<36}" for t in targets))
        print(f"{'cold s':<8}" + "".join(f"| {t.cold_s:<36.2f}" for t in targets))
        print(f"{'RSS MiB':<8}" + "".join(f"| {t.rss_rest_mib:<36.0f}" for t in targets))
        for stream, stream_set in ((False, levels), (True, stream_levels)):
            what = "rps ratio +p50ms cpu-ms/req [redis-rt/req]" + (
                " +ttft50 +ttft99" if stream else ""
            )
            print(
                f"\n{'stream' if stream else 'non-stream'}: direct rps p50ms"
                f" [ttft50] | per target: {what}"
            )
            for c in stream_set:
                base = measure(direct, stream, c, args.seconds)
                cells = [f"c={c:<5} {base.rps:>6.0f} {base.pct(50):>6.2f}"]
                if stream:
                    cells[0] += f" {base.pct(50, ttft=True):>6.2f}"
                for t in targets:
                    profile = (
                        args.profile
                        if (
                            t is profiled
                            and stream == args.profile_stream
                            and c == args.profile_concurrency
                        )
                        else ""
                    )
                    with profiling(t.pid, profile):
                        run = measure(t, stream, c, args.seconds)
                    cells.append(cell(base, run, stream))
                print(" | ".join(cells), flush=True)
        if turn_levels:
            print("\nstored turns (instant fake model): turns/s, p50 ms, server CPU ms/turn")
            for c in turn_levels:
                cells = [f"c={c:<5}"]
                for t in parleys:
                    run, cpu = measure_turns(t, c, args.seconds)
                    errors = f" (errors: {dict(run.errors)})" if run.errors else ""
                    cells.append(f"{run.rps:>6.0f} {run.pct(50):>6.2f} {cpu:>5.2f}{errors}")
                print(" | ".join(cells), flush=True)
        print(
            "\nRSS after load, MiB: " + ", ".join(f"{t.name} {rss_mib(t.pid):.0f}" for t in targets)
        )


if __name__ == "__main__":
    main()
