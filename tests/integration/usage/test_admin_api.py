"""/api/v1/admin (R3, R8): users, role/plan/active changes, platform stats, API usage."""

from __future__ import annotations

import pytest

from tests.integration.usage.harness import Harness, chat
from tests.support.identity import Account, register

ADMIN = "/api/v1/admin"
ROUTES = [
    ("GET", f"{ADMIN}/users"),
    ("PATCH", f"{ADMIN}/users/01a20b8a-94af-7d11-9d07-adda3959660b"),
    ("GET", f"{ADMIN}/stats"),
    ("GET", f"{ADMIN}/api-usage"),
]


async def admin(h: Harness) -> Account:
    account = await register(h.http, "admin")
    await h.set_role(account, "admin")
    return account


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_admin_routes_are_401_anonymous_and_403_for_a_user(
    h: Harness, method: str, path: str
) -> None:
    anonymous = await h.http.request(method, path, json={})
    assert anonymous.status_code == 401
    user = await register(h.http)
    forbidden = await h.http.request(method, path, json={}, headers=user.headers)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "FORBIDDEN"


async def test_a_demoted_admin_is_refused_at_the_next_request(h: Harness) -> None:
    boss = await admin(h)
    assert (await h.http.get(f"{ADMIN}/stats", headers=boss.headers)).status_code == 200
    other = await admin(h)
    demoted = await h.http.patch(
        f"{ADMIN}/users/{boss.id}", json={"role": "user"}, headers=other.headers
    )
    assert demoted.status_code == 200 and demoted.json()["role"] == "user"
    assert (await h.http.get(f"{ADMIN}/stats", headers=boss.headers)).status_code == 403


async def test_users_are_listed_a_page_at_a_time_with_admin_fields(h: Harness) -> None:
    boss = await admin(h)
    for _ in range(3):
        await register(h.http)
    first = (await h.http.get(f"{ADMIN}/users?limit=2", headers=boss.headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert set(first["items"][0]) == {
        "id", "email", "display_name", "role", "plan", "is_active", "created_at",
    }  # fmt: skip
    second = await h.http.get(
        f"{ADMIN}/users?limit=2&cursor={first['next_cursor']}", headers=boss.headers
    )
    ids = {u["id"] for u in first["items"]} | {u["id"] for u in second.json()["items"]}
    assert len(ids) == 4


async def test_a_plan_change_applies_to_the_users_next_request(h: Harness) -> None:
    boss, user = await admin(h), await register(h.http)
    changed = await h.http.patch(
        f"{ADMIN}/users/{user.id}", json={"plan": "tiny"}, headers=boss.headers
    )
    assert changed.json()["plan"] == "tiny"
    board = (await h.http.get("/api/v1/me/dashboard", headers=user.headers)).json()
    assert board["plan"]["name"] == "tiny" and board["plan"]["monthly_messages"] == 2


async def test_an_invalid_change_is_refused_and_changes_nothing(h: Harness) -> None:
    boss, user = await admin(h), await register(h.http)
    refused = await h.http.patch(
        f"{ADMIN}/users/{user.id}", json={"role": "admin", "plan": "gold"}, headers=boss.headers
    )
    assert refused.status_code == 400 and refused.json()["code"] == "INVALID_PLAN"
    me = (await h.http.get("/api/v1/auth/me", headers=user.headers)).json()
    assert (me["role"], me["plan"]) == ("user", "free")
    bad_role = await h.http.patch(
        f"{ADMIN}/users/{user.id}", json={"role": "root"}, headers=boss.headers
    )
    assert bad_role.status_code == 400


async def test_an_unknown_user_is_404(h: Harness) -> None:
    boss = await admin(h)
    missing = await h.http.patch(
        f"{ADMIN}/users/01a20b8a-94af-7d11-9d07-adda3959660b",
        json={"plan": "pro"},
        headers=boss.headers,
    )
    assert missing.status_code == 404


async def test_deactivation_ends_sessions_and_api_keys_at_once(h: Harness) -> None:
    boss, user = await admin(h), await register(h.http)
    key = await h.api_key(user)
    off = await h.http.patch(
        f"{ADMIN}/users/{user.id}", json={"is_active": False}, headers=boss.headers
    )
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert (await h.http.get("/api/v1/auth/me", headers=user.headers)).status_code == 401
    assert (await h.http.get("/api/v1/auth/me", headers=key)).status_code == 401
    refreshed = await h.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": user.refresh_token}
    )
    assert refreshed.status_code == 401
    on = await h.http.patch(
        f"{ADMIN}/users/{user.id}", json={"is_active": True}, headers=boss.headers
    )
    assert on.json()["is_active"] is True
    assert (await h.http.get("/api/v1/auth/me", headers=user.headers)).status_code == 401


async def test_stats_count_the_platform_and_the_cache_hit_rate(h: Harness) -> None:
    boss = await admin(h)
    before = (await h.http.get(f"{ADMIN}/stats", headers=boss.headers)).json()
    user = await register(h.http)
    key = await h.api_key(user)
    cached = {**key, "X-Parley-Cache": "on"}
    body = chat("cache me", temperature=0)
    miss = await h.http.post("/v1/chat/completions", json=body, headers=cached)
    hit = await h.http.post("/v1/chat/completions", json=body, headers=cached)
    assert (miss.headers["x-parley-cache"], hit.headers["x-parley-cache"]) == ("miss", "hit")
    after = (await h.http.get(f"{ADMIN}/stats", headers=boss.headers)).json()
    assert after["users"] == before["users"] + 1
    assert after["messages"] == before["messages"]  # /v1 stores no conversation
    usage = miss.json()["usage"]
    assert after["tokens"] - before["tokens"] == usage["total_tokens"]  # the hit was free
    assert float(after["cost_usd"]) > float(before["cost_usd"])
    assert after["cache_hits"] - before["cache_hits"] == 1
    assert after["cache_misses"] - before["cache_misses"] == 1
    assert 0 < after["cache_hit_rate"] <= 1


async def test_api_usage_reports_each_route_template_with_errors_and_latency(
    h: Harness,
) -> None:
    boss, user = await admin(h), await register(h.http)
    url = f"{ADMIN}/api-usage?period=1d"

    def by_route(report: dict) -> dict:
        return {(r["method"], r["route"]): r for r in report["routes"]}

    # The table is shared by every app of the test session: compare before and after.
    before = by_route((await h.http.get(url, headers=boss.headers)).json())
    for _ in range(3):
        assert (await h.http.get("/api/v1/auth/me", headers=user.headers)).status_code == 200
    missing = "/api/v1/conversations/01a20b8a-94af-7d11-9d07-adda3959660b"
    assert (await h.http.get(missing, headers=user.headers)).status_code == 404
    report = (await h.http.get(url, headers=boss.headers)).json()
    assert report["period"] == "1d" and report["start"] == report["end"]
    routes = by_route(report)
    key = ("GET", "/api/v1/auth/me")
    old = before.get(key, {"requests": 0, "errors": 0})
    me = routes[key]
    assert me["requests"] - old["requests"] >= 3 and me["errors"] == old["errors"]
    assert me["p50_ms"] is not None and me["p50_ms"] <= me["p95_ms"]
    assert not any("01a20b8a" in route for _, route in routes)  # templates, not raw paths
    assert ("GET", "/api/v1/conversations/{conversation_id}") in routes
