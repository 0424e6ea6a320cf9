"""P1/P2/P6 gateway benchmark: the mock upstream hit directly vs through Parley's
/v1/chat/completions (one worker, auth on, real API key), and LiteLLM's proxy when a venv
with it exists at /tmp/litellm-venv. Also Parley's own fake model, cold start and RSS.

    .venv/bin/python -m bench.gateway [--seconds 3] [--concurrency 1,10,64]

One table, side by side in the same run; the machine is noisy, so read the ratios.
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
from dataclasses import dataclass
from pathlib import Path

import httpx
from bench.loadgen import Run, load
from tests.e2e.gateway_support import register_with_api_key
from tests.support.mock_openai import MockUpstream, free_port
from tests.support.server import ROOT

LITELLM = Path("/tmp/litellm-venv/bin/litellm")
# Rate limits and quota accounting stay on (every request is counted, reserved and
# settled), with ceilings a benchmark cannot reach.
LIMITS_ON_BUT_HIGH = (
    "[limits]\nchat_per_minute = 100000000\ndefault_per_minute = 100000000\n"
    "[plans.free]\nmonthly_tokens = 1000000000000\nmonthly_messages = 1000000000000\n"
    "concurrent_streams = 1000\n"
)
BODY = {"model": "mock-model", "messages": [{"role": "user", "content": "Say hello"}]}


@dataclass
class Target:
    name: str
    port: int
    token: str
    model: str = "mock-model"
    pid: int | None = None


def rss_mib(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
def parley(env: dict[str, str], tmp: Path) -> Iterator[tuple[int, int, float]]:
    """Start `parley serve` (migrating first), stop it, then time a second cold start."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    full = {**base, **env, "PARLEY_DATA_DIR": str(tmp), "PYTHONPATH": str(ROOT / "src")}
    full["PARLEY_ENV"] = "production"
    full["PARLEY_SECRET_KEY"] = secrets.token_urlsafe(48)
    cmd = [sys.executable, "-m", "entrypoints.cli", "serve", "--no-migrate"]
    subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "migrate"], env=full, check=True, cwd=tmp
    )
    port = free_port()
    full["PARLEY_PORT"] = str(port)
    log = (tmp / "parley.log").open("wb")
    process = subprocess.Popen(cmd, env=full, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    try:
        cold = wait_http(f"http://127.0.0.1:{port}/health/ready", process)
        yield port, process.pid, cold
    finally:
        process.terminate()
        process.wait(timeout=15)


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
    process = subprocess.Popen(cmd, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/health/liveliness", process, timeout_s=120)
        yield Target("litellm", port, master_key, pid=process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def measure(target: Target, stream: bool, concurrency: int, seconds: float) -> Run:
    body = dict(BODY, model=target.model)
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    path = "/v1/chat/completions"
    raw = json.dumps(body).encode()
    return asyncio.run(
        load("127.0.0.1", target.port, path, raw, target.token, concurrency, seconds)
    )


def row(label: str, base: Run, runs: dict[str, Run], stream: bool) -> str:
    cells = [f"{label:<14}", f"{base.rps:>7.0f}", f"{base.pct(50):>6.2f}"]
    for run in runs.values():
        added50 = run.pct(50) - base.pct(50)
        added99 = run.pct(99) - base.pct(99)
        cells.append(
            f"{run.rps:>7.0f} {run.rps / base.rps:>5.2f}x {added50:>+7.2f} {added99:>+7.2f}"
        )
        if stream:
            cells.append(f"{run.pct(50, ttft=True) - base.pct(50, ttft=True):>+7.2f}")
        if run.errors:
            cells.append(f"(errors: {dict(run.errors)})")
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description="gateway benchmark")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", default="1,10,64")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        mock = stack.enter_context(MockUpstream.start_process(tokens=12))
        toml = tmp / "parley.toml"
        toml.write_text(
            f'[llm]\nmodel = "mock-model"\n[providers.mock]\nbase_url = "{mock.url}"\n'
            'api_key_env = "MOCK_KEY"\n[[models]]\nid = "mock-model"\nprovider = "mock"\n'
            + LIMITS_ON_BUT_HIGH
        )
        fake_toml = tmp / "fake.toml"
        fake_toml.write_text(LIMITS_ON_BUT_HIGH)
        (tmp / "gw").mkdir()
        (tmp / "fake").mkdir()
        env = {"PARLEY_CONFIG": str(toml), "MOCK_KEY": "sk-mock"}
        gw_port, gw_pid, cold = stack.enter_context(parley(env, tmp / "gw"))
        fake_env = {"PARLEY_CONFIG": str(fake_toml)}
        fake_port, fake_pid, _ = stack.enter_context(parley(fake_env, tmp / "fake"))
        gw_key = register_with_api_key(f"http://127.0.0.1:{gw_port}").api_key
        fake_key = register_with_api_key(f"http://127.0.0.1:{fake_port}").api_key
        rest_rss = rss_mib(gw_pid)
        direct = Target("direct", mock.port, "sk-mock")
        targets = [Target("parley", gw_port, gw_key, pid=gw_pid)]
        lite = stack.enter_context(litellm(mock, tmp))
        if lite:
            targets.append(lite)
        fake = Target("parley-fake", fake_port, fake_key, model="parley-fake")
        print(f"cold start to ready: {cold:.2f} s; Parley RSS at rest {rest_rss:.0f} MiB\n")
        for stream in (False, True):
            names = " | ".join(
                f"{t.name}: rps ratio +p50ms +p99ms" + (" +ttft50" if stream else "")
                for t in targets
            )
            print(f"{'stream' if stream else 'non-stream'}: direct rps p50ms | {names}")
            for c in levels:
                base = measure(direct, stream, c, args.seconds)
                runs = {t.name: measure(t, stream, c, args.seconds) for t in targets}
                print(row(f"c={c}", base, runs, stream))
            print()
        for c in (1, 10):
            run = measure(fake, False, c, args.seconds)
            print(
                f"parley fake model, non-stream, c={c}: {run.rps:.0f} req/s, p50 "
                f"{run.pct(50):.2f} ms, p99 {run.pct(99):.2f} ms"
            )
        print(
            f"\nParley RSS after load: {rss_mib(gw_pid):.0f} MiB (gateway), "
            f"{rss_mib(fake_pid):.0f} MiB (fake)"
        )
        if lite:
            print(f"LiteLLM RSS after load: {rss_mib(lite.pid):.0f} MiB")


if __name__ == "__main__":
    main()
