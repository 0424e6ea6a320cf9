"""Refresh rotation, reuse detection, logout and Authenticate, driven with typed fakes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from application.identity.auth_cache import AuthCache, UserState
from application.identity.logout import Logout, LogoutCommand
from application.identity.refresh import Refresh, RefreshCommand
from application.identity.set_active import SetActive, SetActiveCommand
from application.identity.set_plan import SetPlan, SetPlanCommand
from application.identity.set_role import SetRole, SetRoleCommand
from application.ports.token_store import TokenStoreUnavailable
from domain.credentials import (
    AccountDisabled,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from domain.errors import Unauthenticated
from tests.unit.identity.conftest import World
from tests.unit.identity.fakes import CONFIG


def refresh_use_case(world: World) -> Refresh:
    return Refresh(world.uow, world.issuer, world.tokens, world.store, world.clock, CONFIG)


def logout_use_case(world: World) -> Logout:
    return Logout(world.uow, world.issuer, world.store, world.clock, CONFIG)


async def test_refresh_rotates_the_refresh_token_within_the_same_session(world: World) -> None:
    pair = await world.register("ann@x.org")
    new = await refresh_use_case(world)(RefreshCommand(pair.refresh_token))
    assert new.session_id == pair.session_id
    assert new.refresh_token != pair.refresh_token
    assert world.uow.session_rows[pair.session_id].is_current(
        world.issuer.verify(new.refresh_token, "refresh").token_id
    )


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(world: World) -> None:
    pair = await world.register("ann@x.org")
    refresh = refresh_use_case(world)
    rotated = await refresh(RefreshCommand(pair.refresh_token))
    with pytest.raises(TokenRevoked):
        await refresh(RefreshCommand(pair.refresh_token))  # replay of the spent token
    assert world.uow.session_rows[pair.session_id].is_revoked
    assert pair.session_id in world.store.sessions  # access tokens die at once too
    with pytest.raises(TokenRevoked):
        await refresh(RefreshCommand(rotated.refresh_token))  # the thief's copy is dead too
    with pytest.raises(TokenRevoked):
        await world.principal(rotated)


async def test_concurrent_refreshes_of_one_token_let_at_most_one_win(world: World) -> None:
    pair = await world.register("ann@x.org")
    refresh = refresh_use_case(world)
    results = await asyncio.gather(
        *(refresh(RefreshCommand(pair.refresh_token)) for _ in range(5)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) <= 1
    assert all(isinstance(r, TokenRevoked) for r in results if isinstance(r, BaseException))


async def test_refreshing_never_outlives_the_absolute_session_lifetime(world: World) -> None:
    pair = await world.register("ann@x.org")
    refresh = refresh_use_case(world)
    current = pair
    for _ in range(3):  # refresh every 10 days, within the 14-day refresh lifetime
        world.clock.advance(10 * 86400)
        if world.clock.now() >= world.uow.session_rows[pair.session_id].expires_at:
            break
        current = await refresh(RefreshCommand(current.refresh_token))
    with pytest.raises(TokenExpired):
        await refresh(RefreshCommand(current.refresh_token))


async def test_an_access_token_is_not_a_refresh_token(world: World) -> None:
    pair = await world.register("ann@x.org")
    with pytest.raises(TokenInvalid):
        await refresh_use_case(world)(RefreshCommand(pair.access_token))


async def test_a_disabled_user_cannot_refresh_and_the_session_ends(world: World) -> None:
    pair = await world.register("ann@x.org")
    world.uow.user_rows[pair.user.id].is_active = False
    with pytest.raises(AccountDisabled):
        await refresh_use_case(world)(RefreshCommand(pair.refresh_token))
    assert world.uow.session_rows[pair.session_id].is_revoked


async def test_logout_kills_the_access_token_and_its_session_at_once(world: World) -> None:
    pair = await world.register("ann@x.org")
    principal = await world.principal(pair)
    await logout_use_case(world)(LogoutCommand(principal))
    with pytest.raises(TokenRevoked):
        await world.principal(pair)
    with pytest.raises(TokenRevoked):
        await refresh_use_case(world)(RefreshCommand(pair.refresh_token))


async def test_a_logout_survives_a_revocation_store_that_lost_its_data(world: World) -> None:
    gone = await world.register("ann@x.org")
    kept = await world.register("bob@x.org")
    await logout_use_case(world)(LogoutCommand(await world.principal(gone)))
    world.store.forget_everything()
    with pytest.raises(TokenRevoked):
        await world.principal(gone)  # the database still records the logout
    assert (await world.principal(kept)).user_id == kept.user.id
    assert kept.session_id in world.store.alive  # the answer is cached for the next call


async def test_logout_ends_another_own_session_given_its_refresh_token(world: World) -> None:
    phone = await world.register("ann@x.org")
    laptop_session = world.tokens.new_session(phone.user)
    await world.uow.auth_sessions.add(laptop_session)
    laptop = world.tokens.pair(phone.user, laptop_session)
    await logout_use_case(world)(
        LogoutCommand(await world.principal(phone), refresh_token=laptop.refresh_token)
    )
    assert world.uow.session_rows[laptop_session.id].is_revoked


async def test_logout_ignores_someone_elses_refresh_token(world: World) -> None:
    ann = await world.register("ann@x.org")
    bob = await world.register("bob@x.org")
    await logout_use_case(world)(
        LogoutCommand(await world.principal(ann), refresh_token=bob.refresh_token)
    )
    assert not world.uow.session_rows[bob.session_id].is_revoked
    assert (await world.principal(bob)).user_id == bob.user.id


async def test_authenticate_without_a_credential_is_unauthenticated(world: World) -> None:
    with pytest.raises(Unauthenticated) as caught:
        await world.authenticate()(None)
    assert caught.value.code == "UNAUTHENTICATED"


async def test_authenticate_fails_closed_when_the_revocation_store_is_down(world: World) -> None:
    pair = await world.register("ann@x.org")
    world.store.down = True
    with pytest.raises(TokenStoreUnavailable) as caught:
        await world.principal(pair)
    assert caught.value.code == "TOKEN_STORE_UNAVAILABLE"


async def test_role_and_plan_changes_apply_at_the_next_request(world: World) -> None:
    pair = await world.register("ann@x.org")
    assert (await world.principal(pair)).role == "user"  # now cached
    await SetRole(world.uow, world.store)(SetRoleCommand(pair.user.id, "admin"))
    await SetPlan(world.uow, CONFIG, world.store)(SetPlanCommand(pair.user.id, "unlimited"))
    principal = await world.principal(pair)
    assert (principal.role, principal.plan, principal.is_admin) == ("admin", "unlimited", True)


async def test_a_demotion_applies_at_the_next_request_though_the_admin_is_cached(
    world: World,
) -> None:
    pair = await world.register("ann@x.org")
    await SetRole(world.uow, world.store)(SetRoleCommand(pair.user.id, "admin"))
    assert (await world.principal(pair)).is_admin
    assert (await world.principal(pair)).is_admin  # served from the cache
    await SetRole(world.uow, world.store)(SetRoleCommand(pair.user.id, "user"))
    assert not (await world.principal(pair)).is_admin


async def test_a_deactivated_user_is_refused_at_the_next_request(world: World) -> None:
    pair = await world.register("ann@x.org")
    await world.principal(pair)  # cached as active
    await SetActive(world.uow, world.store, world.clock, CONFIG)(
        SetActiveCommand(pair.user.id, is_active=False)
    )
    world.store.sessions.clear()  # even without the session revocation, the epoch says so
    with pytest.raises(AccountDisabled):
        await world.principal(pair)


async def test_the_cache_spares_the_database_until_the_identity_changes(world: World) -> None:
    pair = await world.register("ann@x.org")
    await world.principal(pair)
    reads = world.uow.users.reads
    for _ in range(5):
        await world.principal(pair)
    assert world.uow.users.reads == reads
    await world.store.bump_identity_epoch(pair.user.id)
    await world.principal(pair)
    assert world.uow.users.reads == reads + 1


async def test_a_cached_principal_is_reloaded_after_its_max_age(world: World) -> None:
    now = [0.0]
    world.auth_cache = AuthCache(max_age_s=5.0, now=lambda: now[0])
    pair = await world.register("ann@x.org")
    await world.principal(pair)
    world.uow.user_rows[pair.user.id].role = "admin"  # changed behind the use cases' back
    assert not (await world.principal(pair)).is_admin
    now[0] = 5.1
    assert (await world.principal(pair)).is_admin


async def test_the_cache_is_bounded() -> None:
    cache = AuthCache(max_entries=3)
    users = [uuid.uuid4() for _ in range(5)]
    for user_id in users:
        cache.put_user(user_id, UserState("user", "free", True), epoch=0)
    assert cache.size == 3
    assert cache.user(users[0], 0) is None
    assert cache.user(users[-1], 0) == UserState("user", "free", True)
    assert cache.user(users[-1], 1) is None  # another epoch: not trusted


async def test_an_expired_access_token_is_token_expired(world: World) -> None:
    pair = await world.register("ann@x.org")
    world.clock.advance(CONFIG.access_ttl_s + 1)
    with pytest.raises(TokenExpired):
        await world.principal(pair)
