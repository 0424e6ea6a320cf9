"""X-Forwarded-For is believed only from a configured proxy (R12): otherwise spoofed
addresses share the peer's budget; behind a trusted proxy each client has its own, and
a spoofed left part of the chain is ignored."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
LIMIT = 5
ANONYMOUS = "/api/v1/me/dashboard"  # 401 without credentials, counted per address


def start(backend: Backend, tmp: object, **extra: str):
    env = {**backend.env, "PARLEY_LIMITS_DEFAULT_PER_MINUTE": str(LIMIT), **extra}
    return run_server(env, tmp)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def direct(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start(backend, tmp_path_factory.mktemp("xff-direct")) as server:
        yield server


@pytest.fixture(scope="module")
def proxied(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    tmp = tmp_path_factory.mktemp("xff-proxied")
    with start(backend, tmp, PARLEY_HTTP_TRUSTED_PROXIES="127.0.0.1") as server:
        yield server


def hit(server: RunningServer, forwarded_for: str) -> int:
    headers = {"X-Forwarded-For": forwarded_for}
    return httpx.get(f"{server.base_url}{ANONYMOUS}", headers=headers, timeout=10).status_code


def test_spoofed_forwarded_for_from_an_untrusted_peer_shares_one_budget(
    direct: RunningServer,
) -> None:
    statuses = [hit(direct, f"198.51.100.{i}") for i in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_budget(
    proxied: RunningServer,
) -> None:
    statuses = [hit(proxied, "203.0.113.7") for _ in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
    assert hit(proxied, "203.0.113.8") == 401


def test_a_spoofed_start_of_the_chain_is_ignored_behind_a_trusted_proxy(
    proxied: RunningServer,
) -> None:
    # The proxy appends the real client: only the rightmost untrusted hop counts.
    statuses = [hit(proxied, f"10.9.9.{i}, 203.0.113.20") for i in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
