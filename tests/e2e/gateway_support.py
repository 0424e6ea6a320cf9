"""Helpers for the /v1 end-to-end tests: a real user and API key on a running server."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
import openai


@dataclass(frozen=True)
class Account:
    access_token: str
    api_key: str


def register_with_api_key(base_url: str) -> Account:
    email = f"gw-{secrets.token_hex(6)}@example.com"
    password = f"Gateway-{secrets.token_urlsafe(12)}"
    registered = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": password, "display_name": "Gateway"},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    access = registered.json()["access_token"]
    created = httpx.post(
        f"{base_url}/api/v1/api-keys",
        json={"name": "openai-client"},
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return Account(access, created.json()["key"])


def openai_client(base_url: str, key: str, **options: object) -> openai.OpenAI:
    """The official client, unmodified, pointed at Parley (no client retries: we count)."""
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, **options)
