"""Real `parley serve` processes with a mock upstream, small plans and limits, for the
usage e2e tests; accounts made over HTTP like any client."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import httpx

from tests.support.mock_openai import MockUpstream

PLAN_TOML = """
[llm]
model = "metered"
[providers.mock]
base_url = "{url}"
[[models]]
id = "metered"
provider = "mock"
upstream_model = "{upstream}"
[plans.e2e]
monthly_messages = 6
concurrent_streams = 1
"""


def server_env(
    base: dict[str, str], mock: MockUpstream, tmp: Path, **extra: str
) -> tuple[dict[str, str], str]:
    """Environment for a server whose new accounts are on the ``e2e`` plan; returns the
    upstream model name the mock counts calls under."""
    upstream = f"e2e-{uuid.uuid4().hex[:8]}"
    config = tmp / f"{upstream}.toml"
    config.write_text(PLAN_TOML.format(url=mock.url, upstream=upstream))
    env = {
        **base,
        "PARLEY_CONFIG": str(config),
        "PARLEY_AUTH_DEFAULT_PLAN": "e2e",
        **extra,
    }
    return env, upstream


def api_key(base_url: str) -> dict[str, str]:
    """A new account (on the default plan) and a fresh API key for it."""
    email = f"usage-{secrets.token_hex(6)}@example.com"
    registered = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": f"Usage-{secrets.token_urlsafe(12)}"},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    token = registered.json()["access_token"]
    created = httpx.post(
        f"{base_url}/api/v1/api-keys",
        json={"name": "e2e"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


def completion(stream: bool = False) -> dict[str, object]:
    return {
        "model": "metered",
        "messages": [{"role": "user", "content": "count me"}],
        "stream": stream,
    }
