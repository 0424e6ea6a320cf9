"""Parley in front of a misbehaving upstream: the real server, the mock upstream, the
official openai client. Each scenario has its own provider so breakers do not interact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.e2e.gateway_support import openai_client, register_with_api_key
from tests.support.backends import Backend
from tests.support.mock_openai import Fault, MockUpstream, reply_tokens
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e

SCENARIOS = [
    "retry",
    "fallback",
    "limited",
    "stall",
    "midstall",
    "malformed",
    "endless",
    "brk",
    "midfb",
]

HI = [{"role": "user", "content": "hi"}]


def parley_toml(mock_url: str) -> str:
    lines = [
        "[llm]",
        'model = "retry"',
        "max_retries = 1",
        "retry_backoff_s = 0.01",
        "max_retry_after_s = 2",
        "first_token_timeout_s = 0.5",
        "idle_timeout_s = 0.5",
        "request_timeout_s = 10",
        "breaker_min_calls = 4",
        "breaker_failure_ratio = 0.5",
        "breaker_cooldown_s = 1",
        "max_response_chars = 3000",
        # Models without fallbacks still end a broken stream with an error under this policy.
        'mid_stream_failure = "fallback"',
        "[providers.local]",
        'kind = "fake"',
    ]
    for name in SCENARIOS:
        lines += [f"[providers.{name}]", f'base_url = "{mock_url}"', 'api_key_env = "MOCK_KEY"']
    for name in SCENARIOS:
        lines += ["[[models]]", f'id = "{name}"', f'provider = "{name}"']
        lines += [f'upstream_model = "{name}-up"']
        if name in ("fallback", "midfb"):
            lines.append('fallbacks = ["backup"]')
    lines += ["[[models]]", 'id = "backup"', 'provider = "local"']
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def mock() -> Iterator[MockUpstream]:
    with MockUpstream.start_thread() as running:
        yield running


@pytest.fixture(scope="module")
def parley(
    backend: Backend, mock: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    mock.reset()  # the mock outlives one backend's server: start each from a clean slate
    tmp: Path = tmp_path_factory.mktemp(f"resilience-{backend.name}")
    config = tmp / "parley.toml"
    config.write_text(parley_toml(mock.url))
    env = {**backend.env, "PARLEY_CONFIG": str(config), "MOCK_KEY": "sk-mock-secret"}
    with run_server(env, tmp) as running:
        yield running
        assert running.process.poll() is None, "Parley crashed"
        logs = running.logs()
        assert "Traceback" not in logs and "sk-mock-secret" not in logs


@pytest.fixture(scope="module")
def client(parley: RunningServer) -> openai.OpenAI:
    key = register_with_api_key(parley.base_url).api_key
    return openai_client(parley.base_url, key, timeout=20)


def collect(stream: openai.Stream, seen: list[str] | None = None) -> list[str]:
    """Read the stream into ``seen`` (kept even when the stream ends with an error)."""
    seen = [] if seen is None else seen
    for chunk in stream:
        if chunk.choices:
            seen.append(chunk.choices[0].delta.content or "")
    return seen


def test_a_500_is_retried_and_the_client_sees_success(client, mock) -> None:
    mock.script("retry-up", [Fault(status=500)])
    completion = client.chat.completions.create(model="retry", messages=HI)
    assert completion.choices[0].message.content == "".join(reply_tokens(12))
    assert mock.calls("retry-up") == 2


def test_a_model_that_always_fails_falls_back_to_the_next_one(client, mock) -> None:
    mock.always("fallback-up", Fault(status=500))
    completion = client.chat.completions.create(model="fallback", messages=HI)
    assert completion.model == "backup"
    assert completion.choices[0].message.content == "Echo: hi"
    assert mock.calls("fallback-up") == 2  # one try and one retry, then the fallback


def test_a_429_with_a_short_retry_after_is_waited_out(client, mock) -> None:
    mock.script("limited-up", [Fault(status=429, retry_after="1")])
    completion = client.chat.completions.create(model="limited", messages=HI)
    assert completion.choices[0].message.content
    assert mock.calls("limited-up") == 2


def test_a_429_with_a_long_retry_after_reaches_the_client_as_rate_limit(client, mock) -> None:
    mock.script("limited-up", [Fault(status=429, retry_after="120")])
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="limited", messages=HI)
    assert int(caught.value.response.headers["retry-after"]) >= 1


def test_a_stall_before_the_first_token_is_retried(client, mock) -> None:
    mock.script("stall-up", [Fault(stall_before_s=3)])
    stream = client.chat.completions.create(model="stall", messages=HI, stream=True)
    assert "".join(collect(stream)) == "".join(reply_tokens(12))
    assert mock.calls("stall-up") == 2


def test_a_stream_that_never_starts_is_a_504_for_the_client(client, mock) -> None:
    mock.script("stall-up", [Fault(stall_before_s=3), Fault(stall_before_s=3)])
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="stall", messages=HI, stream=True)
    assert caught.value.status_code == 504


def test_a_stall_mid_stream_ends_the_stream_with_an_error(client, mock) -> None:
    mock.script("midstall-up", [Fault(stall_after_tokens=3, stall_s=3)])
    seen: list[str] = []
    stream = client.chat.completions.create(model="midstall", messages=HI, stream=True)
    with pytest.raises(openai.APIError, match="next chunk"):
        collect(stream, seen)
    assert "".join(seen) == "".join(reply_tokens(3))
    assert mock.calls("midstall-up") == 1  # never retried once text was sent


def test_a_malformed_chunk_ends_the_stream_with_an_error(client, mock) -> None:
    mock.script("malformed-up", [Fault(malformed_after=2)])
    stream = client.chat.completions.create(model="malformed", messages=HI, stream=True)
    with pytest.raises(openai.APIError, match="invalid JSON"):
        collect(stream)


def test_an_endless_stream_is_cut_at_the_size_limit(client, mock) -> None:
    mock.script("endless-up", [Fault(endless=True)])
    seen: list[str] = []
    stream = client.chat.completions.create(model="endless", messages=HI, stream=True)
    with pytest.raises(openai.APIError, match="size limit"):
        collect(stream, seen)
    assert 0 < len("".join(seen)) <= 3000


def llm_detail(parley: RunningServer) -> str:
    return httpx.get(f"{parley.base_url}/health/ready", timeout=5).json()["components"]["llm"][
        "detail"
    ]


def test_the_breaker_opens_on_failures_and_recovers(client, mock, parley) -> None:
    import time

    mock.always("brk-up", Fault(status=503))
    for _ in range(2):  # 2 requests x (try + retry) = 4 failures: the circuit opens
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="brk", messages=HI)
    assert "brk: open" in llm_detail(parley)
    calls = mock.calls("brk-up")
    with pytest.raises(openai.InternalServerError, match="circuit"):
        client.chat.completions.create(model="brk", messages=HI)
    assert mock.calls("brk-up") == calls  # refused without calling the upstream
    mock.always("brk-up", Fault())
    time.sleep(1.1)  # the cool-down
    completion = client.chat.completions.create(model="brk", messages=HI)
    assert completion.choices[0].message.content
    assert "brk: closed" in llm_detail(parley)


def test_a_stream_broken_mid_way_continues_on_the_fallback_model(client, mock) -> None:
    mock.script("midfb-up", [Fault(drop_after=3)])
    stream = client.chat.completions.create(model="midfb", messages=HI, stream=True)
    chunks = [c for c in stream if c.choices]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.startswith("".join(reply_tokens(3)) + "Echo: Continue")
    assert chunks[0].model == "midfb" and chunks[-1].model == "backup"
    assert mock.calls("midfb-up") == 1
