"""WebSocket handshakes and the request rate limit (R12, SPEC conventions): a handshake
with a valid ``?token=`` counts against its user, not against everyone behind the same
address; a refused handshake is HTTP 429 with a problem body and Retry-After."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.e2e.ws_support import next_frame, ws_url
from tests.support.backends import Backend
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
RATE = 5  # requests (and handshakes) per minute per caller


@pytest.fixture(scope="module")
def limited(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    tmp = tmp_path_factory.mktemp("ws-limits")
    env = {
        **backend.env,
        "PARLEY_LIMITS_DEFAULT_PER_MINUTE": str(RATE),
        "PARLEY_REDIS_KEY_PREFIX": f"ws-limits-{uuid.uuid4().hex[:8]}:",
    }
    with run_server(env, tmp) as server:
        yield server


async def handshake(server: RunningServer, token: str | None = None) -> InvalidStatus | None:
    """None when the socket opened (and answered ``ready``), else the refusal."""
    try:
        async with connect(ws_url(server, token), compression=None) as ws:
            if token is not None:
                assert (await next_frame(ws))["type"] == "ready"
    except InvalidStatus as refused:
        return refused
    return None


def assert_too_many(refused: InvalidStatus | None) -> None:
    assert refused is not None, "the handshake should have been refused"
    response = refused.response
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == str(RATE)
    assert json.loads(response.body)["code"] == "RATE_LIMITED"


async def test_signed_in_handshakes_count_per_user_and_refusals_are_429_problems(
    limited: RunningServer,
) -> None:
    registered = httpx.post(
        f"{limited.base_url}/api/v1/auth/register",
        json={"email": f"ws-{uuid.uuid4().hex[:8]}@example.com", "password": "x" * 4 + "-pass-9Q"},
        timeout=10,
    )  # one request from this address
    assert registered.status_code == 201, registered.text
    token = registered.json()["access_token"]
    for _ in range(RATE - 1):  # the rest of the address's budget, without credentials
        assert await handshake(limited) is None
    assert_too_many(await handshake(limited))
    # The address is used up; the signed-in user is not: it has a budget of its own.
    for _ in range(RATE):
        assert await handshake(limited, token) is None
    assert_too_many(await handshake(limited, token))
