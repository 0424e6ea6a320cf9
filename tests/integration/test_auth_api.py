"""/api/v1/auth over HTTP on both backends: the contract and the security properties."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import jwt
import pytest
from dishka import AsyncContainer
from litestar.testing import AsyncTestClient

from application.identity.set_active import SetActive, SetActiveCommand
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.conftest import make_settings
from tests.support.backends import Backend
from tests.support.identity import PASSWORD, bearer, register, unique_email

AUTH = "/api/v1/auth"
USER_FIELDS = {"id", "email", "display_name", "role", "plan", "created_at"}
PAIR_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in", "user"}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body


async def test_register_returns_a_token_pair_with_only_documented_fields(client) -> None:
    email = unique_email("Shape").replace("shape", "Shape")
    response = await client.post(
        f"{AUTH}/register", json={"email": email, "password": PASSWORD, "display_name": "Ann"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == PAIR_FIELDS
    assert set(body["user"]) == USER_FIELDS
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 900
    assert body["user"]["email"] == email.lower()
    assert (body["user"]["role"], body["user"]["plan"]) == ("user", "free")
    assert body["user"]["created_at"].endswith("Z")


async def test_register_ignores_role_plan_and_id_sent_by_the_client(client) -> None:
    response = await client.post(
        f"{AUTH}/register",
        json={
            "email": unique_email(),
            "password": PASSWORD,
            "role": "admin",
            "plan": "unlimited",
            "id": "00000000-0000-0000-0000-000000000001",
            "is_active": True,
        },
    )
    user = response.json()["user"]
    assert (user["role"], user["plan"]) == ("user", "free")
    assert user["id"] != "00000000-0000-0000-0000-000000000001"


async def test_registering_an_existing_email_is_409_email_taken(client) -> None:
    account = await register(client)
    again = await client.post(
        f"{AUTH}/register", json={"email": account.email.upper(), "password": PASSWORD}
    )
    problem(again, 409, "EMAIL_TAKEN")


@pytest.mark.parametrize("password", ["short", "password1", "x" * 129])
async def test_weak_passwords_are_400_weak_password(client, password: str) -> None:
    response = await client.post(
        f"{AUTH}/register", json={"email": unique_email(), "password": password}
    )
    problem(response, 400, "WEAK_PASSWORD")


async def test_a_malformed_email_is_a_validation_error_naming_the_field(client) -> None:
    response = await client.post(
        f"{AUTH}/register", json={"email": "not-an-email", "password": PASSWORD}
    )
    body = problem(response, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"][0]["field"] == "email"


async def test_a_missing_field_is_a_validation_error(client) -> None:
    response = await client.post(f"{AUTH}/register", json={"email": unique_email()})
    problem(response, 400, "VALIDATION_ERROR")


async def test_login_returns_a_new_token_pair(client) -> None:
    account = await register(client)
    response = await client.post(
        f"{AUTH}/login", json={"email": account.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == PAIR_FIELDS
    assert response.json()["user"]["id"] == account.id


async def test_unknown_email_and_wrong_password_look_exactly_the_same(client) -> None:
    account = await register(client)
    wrong = await client.post(
        f"{AUTH}/login", json={"email": account.email, "password": "not the password"}
    )
    unknown = await client.post(
        f"{AUTH}/login", json={"email": unique_email(), "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    volatile = {"request_id", "timestamp"}
    strip = lambda body: {k: v for k, v in body.items() if k not in volatile}  # noqa: E731
    assert strip(wrong.json()) == strip(unknown.json())
    assert wrong.json()["code"] == "INVALID_CREDENTIALS"
    assert wrong.headers["content-type"] == unknown.headers["content-type"]


async def test_me_returns_the_caller_with_only_documented_fields(client) -> None:
    account = await register(client)
    response = await client.get(f"{AUTH}/me", headers=account.headers)
    assert response.status_code == 200
    assert set(response.json()) == USER_FIELDS
    assert response.json()["id"] == account.id


async def test_patch_me_changes_the_display_name_but_never_role_plan_or_email(client) -> None:
    account = await register(client)
    response = await client.patch(
        f"{AUTH}/me",
        headers=account.headers,
        json={"display_name": "New Name", "role": "admin", "plan": "pro", "email": "x@y.org"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "New Name"
    assert (body["role"], body["plan"], body["email"]) == ("user", "free", account.email)
    again = await client.get(f"{AUTH}/me", headers=account.headers)
    assert (again.json()["role"], again.json()["plan"]) == ("user", "free")


async def test_no_response_ever_contains_a_password_hash(client) -> None:
    account = await register(client)
    responses = [
        await client.get(f"{AUTH}/me", headers=account.headers),
        await client.patch(f"{AUTH}/me", headers=account.headers, json={"display_name": "Z"}),
        await client.post(f"{AUTH}/login", json={"email": account.email, "password": PASSWORD}),
    ]
    for response in responses:
        assert "argon2" not in response.text and "password" not in response.text


def forge(token: str, secret: str, *, header: dict | None = None, **changes: Any) -> str:
    """Re-sign the claims of a real token with some of them changed (or removed: None)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, secret, algorithm="HS256", headers=header)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unsigned(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def tampered(token: str) -> str:
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "00000000-0000-7000-8000-000000000001"
    return f"{header}.{b64(claims)}.{signature}"


ATTACKS = {
    "alg_none": lambda a, s: unsigned(a.access_token),
    "tampered_payload": lambda a, s: tampered(a.access_token),
    "bad_signature": lambda a, s: forge(a.access_token, "another-secret-" + "x" * 32),
    "expired": lambda a, s: forge(a.access_token, s, exp=int(time.time()) - 120),
    "not_yet_valid": lambda a, s: forge(a.access_token, s, nbf=int(time.time()) + 3600),
    "wrong_issuer": lambda a, s: forge(a.access_token, s, iss="someone-else"),
    "wrong_audience": lambda a, s: forge(a.access_token, s, aud="another-api"),
    "missing_exp": lambda a, s: forge(a.access_token, s, exp=None),
    "refresh_as_access": lambda a, s: a.refresh_token,
    "garbage": lambda a, s: "not.a.jwt",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_forged_or_misused_tokens_are_401(client, settings: Settings, attack: str) -> None:
    account = await register(client)
    token = ATTACKS[attack](account, settings.secret_key)
    response = await client.get(f"{AUTH}/me", headers=bearer(token))
    problem(response, 401, "TOKEN_EXPIRED" if attack == "expired" else "TOKEN_INVALID")
    assert settings.secret_key not in response.text


async def test_refresh_rotates_and_reusing_the_old_token_revokes_the_family(client) -> None:
    account = await register(client)
    first = await client.post(f"{AUTH}/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert set(rotated) == PAIR_FIELDS
    assert rotated["refresh_token"] != account.refresh_token
    assert (await client.get(f"{AUTH}/me", headers=bearer(rotated["access_token"]))).is_success

    replay = await client.post(f"{AUTH}/refresh", json={"refresh_token": account.refresh_token})
    problem(replay, 401, "TOKEN_REVOKED")
    # The whole family is gone: the newest refresh token and every access token.
    after = await client.post(f"{AUTH}/refresh", json={"refresh_token": rotated["refresh_token"]})
    problem(after, 401, "TOKEN_REVOKED")
    for token in (account.access_token, rotated["access_token"]):
        problem(await client.get(f"{AUTH}/me", headers=bearer(token)), 401, "TOKEN_REVOKED")


async def test_an_access_token_cannot_be_used_to_refresh(client) -> None:
    account = await register(client)
    response = await client.post(f"{AUTH}/refresh", json={"refresh_token": account.access_token})
    problem(response, 401, "TOKEN_INVALID")


async def test_logout_stops_the_access_token_and_its_refresh_family_at_once(client) -> None:
    account = await register(client)
    response = await client.post(f"{AUTH}/logout", headers=account.headers)
    assert response.status_code == 204
    problem(await client.get(f"{AUTH}/me", headers=account.headers), 401, "TOKEN_REVOKED")
    refresh = await client.post(f"{AUTH}/refresh", json={"refresh_token": account.refresh_token})
    problem(refresh, 401, "TOKEN_REVOKED")


async def test_logout_with_a_refresh_token_ends_that_other_session_too(client) -> None:
    account = await register(client)
    other = (
        await client.post(f"{AUTH}/login", json={"email": account.email, "password": PASSWORD})
    ).json()
    response = await client.post(
        f"{AUTH}/logout", headers=account.headers, json={"refresh_token": other["refresh_token"]}
    )
    assert response.status_code == 204
    problem(
        await client.get(f"{AUTH}/me", headers=bearer(other["access_token"])), 401, "TOKEN_REVOKED"
    )


async def test_logout_needs_authentication(client) -> None:
    problem(await client.post(f"{AUTH}/logout"), 401, "UNAUTHENTICATED")


async def test_password_change_revokes_other_sessions_but_keeps_this_one(client) -> None:
    here = await register(client)
    other = (
        await client.post(f"{AUTH}/login", json={"email": here.email, "password": PASSWORD})
    ).json()
    new_password = "an entirely new passphrase"
    response = await client.post(
        f"{AUTH}/password",
        headers=here.headers,
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert response.status_code == 204, response.text
    assert (await client.get(f"{AUTH}/me", headers=here.headers)).status_code == 200
    problem(
        await client.get(f"{AUTH}/me", headers=bearer(other["access_token"])), 401, "TOKEN_REVOKED"
    )
    old = await client.post(f"{AUTH}/login", json={"email": here.email, "password": PASSWORD})
    problem(old, 401, "INVALID_CREDENTIALS")
    new = await client.post(f"{AUTH}/login", json={"email": here.email, "password": new_password})
    assert new.status_code == 200


async def test_password_change_with_a_wrong_current_password_is_refused(client) -> None:
    account = await register(client)
    response = await client.post(
        f"{AUTH}/password",
        headers=account.headers,
        json={"current_password": "wrong wrong", "new_password": "an entirely new passphrase"},
    )
    problem(response, 400, "INVALID_CURRENT_PASSWORD")


async def test_deactivation_applies_at_the_next_request(client, container: AsyncContainer) -> None:
    account = await register(client)
    assert (await client.get(f"{AUTH}/me", headers=account.headers)).status_code == 200
    async with container() as request:
        await (await request.get(SetActive))(SetActiveCommand(account.email, is_active=False))
    response = await client.get(f"{AUTH}/me", headers=account.headers)
    assert response.status_code == 401
    assert response.json()["code"] in {"ACCOUNT_DISABLED", "TOKEN_REVOKED"}
    login = await client.post(f"{AUTH}/login", json={"email": account.email, "password": PASSWORD})
    problem(login, 401, "ACCOUNT_DISABLED")


async def test_login_is_throttled_per_account_with_retry_after(backend: Backend) -> None:
    settings = make_settings(
        backend,
        PARLEY_AUTH_LOGIN_PER_ACCOUNT_PER_MINUTE="3",
        PARLEY_AUTH_LOGIN_PER_IP_PER_MINUTE="997",  # its own budget: not the shared client's
    )
    async with AsyncTestClient(app=create_app(settings)) as http:
        account = await register(http)
        bystander = await register(http)
        for _ in range(3):
            bad = await http.post(
                f"{AUTH}/login", json={"email": account.email, "password": "nope nope"}
            )
            assert bad.status_code == 401
        right = await http.post(
            f"{AUTH}/login", json={"email": account.email, "password": PASSWORD}
        )
        problem(right, 429, "RATE_LIMITED")
        assert int(right.headers["retry-after"]) >= 1
        assert right.headers["ratelimit-limit"] == "3"
        other = await http.post(
            f"{AUTH}/login", json={"email": bystander.email, "password": PASSWORD}
        )
        assert other.status_code == 200


async def test_login_is_throttled_per_client_ip(backend: Backend) -> None:
    settings = make_settings(backend, PARLEY_AUTH_LOGIN_PER_IP_PER_MINUTE="3")
    async with AsyncTestClient(app=create_app(settings)) as http:
        accounts = [await register(http) for _ in range(4)]
        for account in accounts[:3]:
            ok = await http.post(
                f"{AUTH}/login", json={"email": account.email, "password": PASSWORD}
            )
            assert ok.status_code == 200
        fourth = await http.post(
            f"{AUTH}/login", json={"email": accounts[3].email, "password": PASSWORD}
        )
        problem(fourth, 429, "RATE_LIMITED")
        assert "retry-after" in fourth.headers


async def test_with_redis_down_protected_routes_fail_closed_and_liveness_answers(
    backend: Backend,
) -> None:
    settings = make_settings(backend, PARLEY_REDIS_URL="redis://127.0.0.1:1/0")
    async with AsyncTestClient(app=create_app(settings)) as http:
        account = await register(http)  # needs only the database
        me = await http.get(f"{AUTH}/me", headers=account.headers)
        problem(me, 503, "TOKEN_STORE_UNAVAILABLE")
        login = await http.post(
            f"{AUTH}/login", json={"email": account.email, "password": PASSWORD}
        )
        problem(login, 503, "RATE_LIMITER_UNAVAILABLE")
        live = await http.get("/health/live")
        assert live.status_code == 200 and live.json() == {"status": "ok"}


async def test_every_identity_route_is_documented_in_the_openapi_schema(client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("register", "login", "refresh", "logout", "me", "password"):
        assert f"{AUTH}/{path}" in paths
    assert set(paths[f"{AUTH}/me"]) >= {"get", "patch"}
    assert "/api/v1/api-keys" in paths and "/api/v1/api-keys/{key_id}" in paths


async def test_concurrent_refreshes_of_one_token_let_at_most_one_win(client) -> None:
    account = await register(client)
    body = {"refresh_token": account.refresh_token}
    responses = await asyncio.gather(*(client.post(f"{AUTH}/refresh", json=body) for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) <= 1, statuses
    assert set(statuses) <= {200, 401}, [r.text for r in responses]
