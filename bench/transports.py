"""The LLM adapter's HTTP transports side by side: Parley's lean transport against the openai
SDK's maintained clients, all under the same ``OpenAIProvider`` and the same mock upstream.

    .venv/bin/python -m bench.transports [--seconds 2] [--concurrency 1,10,64] [--rounds 2]

- ``lean``: what Parley runs: chat completions encoded once per call from the SDK's own
  headers and sent on ``adapters/llm/lean_transport.py`` (asyncio streams + httptools);
- ``lean-sdk``: the lean transport under the SDK's request building (``client.post``);
- ``httpx2``: the SDK's default client (``openai.DefaultAsyncHttpxClient``, httpx2's pool);
- ``aiohttp``: ``openai[aiohttp]``'s ``DefaultAioHttpClient``.

The mock runs in its own process; this process is only the client, so its CPU time per
request (``time.process_time``) is the transport's cost plus the SDK's and the adapter's,
which are the same for all three. Transports alternate within each round, and the figures
are medians over rounds: the machine is shared, so read the ratios against ``lean``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2
import openai
from tests.support.mock_openai import MockUpstream

from adapters.llm.lean_transport import LeanTransport
from adapters.llm.openai_provider import OpenAIProvider
from application.ports.llm import ChatMessage, CompletionRequest

REQUEST = CompletionRequest(
    model="mock-model", messages=(ChatMessage("user", "Say hello"),), max_tokens=64
)


def _lean() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=LeanTransport(), trust_env=False)


def _sdk_httpx() -> httpx2.AsyncClient:
    return openai.DefaultAsyncHttpxClient(trust_env=False)


def _sdk_aiohttp() -> httpx2.AsyncClient:
    return openai.DefaultAioHttpClient(trust_env=False)


CLIENTS: dict[str, Callable[[], httpx2.AsyncClient | None]] = {
    "lean": lambda: None,  # the provider's own default
    "lean-sdk": _lean,
    "httpx2": _sdk_httpx,
    "aiohttp": _sdk_aiohttp,
}


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s / len(self.latencies) * 1000 if self.latencies else float("nan")

    @staticmethod
    def pct(values: list[float], p: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def _one(provider: OpenAIProvider, stream: bool, result: Result) -> None:
    started = time.perf_counter()
    if not stream:
        await provider.complete(REQUEST)
    else:
        first: float | None = None
        async for chunk in provider.stream(REQUEST):
            if first is None and chunk.delta:
                first = time.perf_counter() - started
        result.ttfts.append(first or 0.0)
    result.latencies.append(time.perf_counter() - started)


async def _client_loop(
    provider: OpenAIProvider, stream: bool, deadline: float, result: Result
) -> None:
    while time.perf_counter() < deadline:
        try:
            await _one(provider, stream, result)
        except Exception:
            result.errors += 1


async def measure(name: str, url: str, stream: bool, concurrency: int, seconds: float) -> Result:
    provider = OpenAIProvider(name, base_url=url, api_key="sk-mock", http_client=CLIENTS[name]())
    try:
        warm = Result()  # connections opened, first-call costs paid, outside the figures
        await asyncio.gather(
            *(
                _client_loop(provider, stream, time.perf_counter() + 0.3, warm)
                for _ in range(concurrency)
            )
        )
        result = Result()
        cpu0, started = time.process_time(), time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(_client_loop(provider, stream, deadline, result) for _ in range(concurrency))
        )
        result.elapsed_s = time.perf_counter() - started
        result.cpu_s = time.process_time() - cpu0
        return result
    finally:
        await provider.aclose()


def _median(results: list[Result], pick: Callable[[Result], float]) -> float:
    return statistics.median(pick(r) for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description="LLM transports benchmark")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", default="1,10,64")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--transports", default=",".join(CLIENTS))
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    names = args.transports.split(",")
    try:
        import uvloop  # what `parley serve` runs on (uvicorn[standard])

        runner: Callable[..., object] = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    print(
        "per transport: client CPU ms/request (ratio to lean), req/s, p50 ms"
        " [stream: TTFT p50 ms]; medians of rounds"
    )
    with MockUpstream.start_process(tokens=12) as mock:
        for stream in (False, True):
            print(f"\n{'stream' if stream else 'non-stream'}")
            for c in levels:
                runs: dict[str, list[Result]] = {n: [] for n in names}
                for _ in range(args.rounds):
                    for n in names:
                        runs[n].append(
                            runner(measure(n, mock.url, stream, c, args.seconds))  # type: ignore[arg-type]
                        )
                lean_cpu = _median(runs[names[0]], lambda r: r.cpu_ms_per_request)
                cells = [f"c={c:<3}"]
                for n in names:
                    rs = runs[n]
                    cpu = _median(rs, lambda r: r.cpu_ms_per_request)
                    cell = (
                        f"{n}: {cpu:.3f} ({cpu / lean_cpu:.2f}x) "
                        f"{_median(rs, lambda r: r.rps):.0f}/s "
                        f"p50 {_median(rs, lambda r: Result.pct(r.latencies, 50)):.2f}"
                    )
                    if stream:
                        cell += f" ttft {_median(rs, lambda r: Result.pct(r.ttfts, 50)):.2f}"
                    errors = sum(r.errors for r in rs)
                    if errors:
                        cell += f" errors={errors}"
                    cells.append(cell)
                print(" | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
