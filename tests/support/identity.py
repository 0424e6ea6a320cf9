"""Sign-up helpers for API tests of any feature: a fresh account per call.

They register (which returns a token pair) rather than log in, so they never use up the
per-IP login budget that the shared in-process test client (one address) has.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    email: str
    password: str
    user: dict[str, Any]
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def id(self) -> str:
        return str(self.user["id"])


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


async def register(client: AsyncClient, tag: str = "user", password: str = PASSWORD) -> Account:
    email = unique_email(tag)
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(email, password, body["user"], body["access_token"], body["refresh_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
