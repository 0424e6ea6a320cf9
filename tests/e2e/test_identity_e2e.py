"""Identity against the real `parley serve` process, and `parley user` as an operator runs it."""

from __future__ import annotations

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.cli import run_cli
from tests.support.identity import PASSWORD, unique_email
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e

AUTH = "/api/v1/auth"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_user_signs_up_uses_a_key_refreshes_and_signs_out(server: RunningServer) -> None:
    email = unique_email("e2e")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        registered = await http.post(
            f"{AUTH}/register", json={"email": email, "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text

        login = await http.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tokens = login.json()
        me = await http.get(f"{AUTH}/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200 and me.json()["email"] == email

        created = await http.post(
            "/api/v1/api-keys", json={"name": "e2e"}, headers=bearer(tokens["access_token"])
        )
        assert created.status_code == 201, created.text
        by_key = await http.get(f"{AUTH}/me", headers=bearer(created.json()["key"]))
        assert by_key.status_code == 200 and by_key.json()["id"] == me.json()["id"]

        rotated = await http.post(
            f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert rotated.status_code == 200, rotated.text
        fresh = rotated.json()

        logout = await http.post(f"{AUTH}/logout", headers=bearer(fresh["access_token"]))
        assert logout.status_code == 204
        after = await http.get(f"{AUTH}/me", headers=bearer(fresh["access_token"]))
        assert after.status_code == 401 and after.json()["code"] == "TOKEN_REVOKED"
        again = await http.post(f"{AUTH}/refresh", json={"refresh_token": fresh["refresh_token"]})
        assert again.status_code == 401


async def test_an_operator_creates_and_promotes_a_user_from_the_cli(
    backend: Backend, server: RunningServer
) -> None:
    email = unique_email("ops")
    created = run_cli(
        "user", "create", email, "--plan", "pro", env=backend.env, input_text=f"{PASSWORD}\n"
    )
    assert created.returncode == 0, created.stderr
    assert email in created.stdout

    listed = run_cli("user", "list", env=backend.env)
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if row.startswith(email))
    assert line.split()[1:3] == ["user", "pro"]

    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        login = await http.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        assert login.json()["user"]["role"] == "user"

        promoted = run_cli("user", "set-role", email, "admin", env=backend.env)
        assert promoted.returncode == 0, promoted.stderr
        me = await http.get(f"{AUTH}/me", headers=bearer(token))
        assert me.json()["role"] == "admin"  # the running server sees it at the next request


def test_cli_errors_are_clear_and_exit_non_zero(backend: Backend) -> None:
    email = unique_email("dup")
    first = run_cli("user", "create", email, "--password", PASSWORD, env=backend.env)
    assert first.returncode == 0, first.stderr
    duplicate = run_cli("user", "create", email, "--password", PASSWORD, env=backend.env)
    assert duplicate.returncode != 0 and "EMAIL_TAKEN" in duplicate.stderr
    weak = run_cli("user", "create", unique_email(), "--password", "password", env=backend.env)
    assert weak.returncode != 0 and "WEAK_PASSWORD" in weak.stderr
    bad_role = run_cli("user", "set-role", email, "overlord", env=backend.env)
    assert bad_role.returncode != 0 and "INVALID_ROLE" in bad_role.stderr
    missing = run_cli("user", "set-plan", unique_email(), "pro", env=backend.env)
    assert missing.returncode != 0 and "USER_NOT_FOUND" in missing.stderr
    assert "Traceback" not in duplicate.stderr + weak.stderr + bad_role.stderr + missing.stderr
