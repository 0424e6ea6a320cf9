"""Profile, password change, API keys and the admin use cases, driven with typed fakes."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import pytest

from application.identity.change_password import (
    ChangePassword,
    ChangePasswordCommand,
    WrongCurrentPassword,
)
from application.identity.create_api_key import CreateApiKey, CreateApiKeyCommand
from application.identity.create_user import CreateUser, CreateUserCommand
from application.identity.delete_api_key import DeleteApiKey, DeleteApiKeyCommand
from application.identity.list_api_keys import ListApiKeys, ListApiKeysQuery
from application.identity.list_users import ListUsers, ListUsersQuery
from application.identity.set_active import SetActive, SetActiveCommand
from application.identity.set_plan import SetPlan, SetPlanCommand
from application.identity.set_role import SetRole, SetRoleCommand
from application.identity.update_me import UpdateMe, UpdateMeCommand
from application.ports.token_store import TokenStoreUnavailable
from domain.api_keys import ApiKeyNotFound
from domain.credentials import AccountDisabled, TokenInvalid, TokenRevoked
from domain.errors import Forbidden
from domain.users import EmailTaken, InvalidPlan, InvalidRole, UserNotFound
from tests.unit.identity.conftest import World
from tests.unit.identity.fakes import CONFIG


async def test_update_me_changes_only_the_display_name(world: World) -> None:
    pair = await world.register("ann@x.org")
    principal = await world.principal(pair)
    user = await UpdateMe(world.uow)(UpdateMeCommand(principal, display_name="  Ann L. "))
    assert (user.display_name, user.role, user.plan, user.email) == (
        "Ann L.",
        "user",
        "free",
        "ann@x.org",
    )
    assert world.uow.user_rows[pair.user.id].display_name == "Ann L."


def change_password(world: World) -> ChangePassword:
    return ChangePassword(world.uow, world.hasher, world.throttle, world.store, world.clock, CONFIG)


async def test_changing_the_password_revokes_other_sessions_and_keeps_this_one(
    world: World,
) -> None:
    here = await world.register("ann@x.org")
    elsewhere_session = world.tokens.new_session(here.user)
    await world.uow.auth_sessions.add(elsewhere_session)
    elsewhere = world.tokens.pair(here.user, elsewhere_session)
    await change_password(world)(
        ChangePasswordCommand(
            await world.principal(here), "correct horse battery", "a brand new passphrase"
        )
    )
    assert world.uow.user_rows[here.user.id].password_hash.endswith("a brand new passphrase")
    assert (await world.principal(here)).user_id == here.user.id
    with pytest.raises(TokenRevoked):
        await world.principal(elsewhere)


async def test_changing_the_password_needs_the_current_one(world: World) -> None:
    pair = await world.register("ann@x.org")
    with pytest.raises(WrongCurrentPassword) as caught:
        await change_password(world)(
            ChangePasswordCommand(await world.principal(pair), "wrong!!!", "a brand new one")
        )
    assert caught.value.code == "INVALID_CURRENT_PASSWORD"
    assert world.uow.user_rows[pair.user.id].password_hash.endswith("correct horse battery")


async def test_api_keys_are_stored_hashed_and_authenticate_their_owner(world: World) -> None:
    pair = await world.register("ann@x.org")
    principal = await world.principal(pair)
    created = await CreateApiKey(world.uow, world.secrets, world.clock, world.ids)(
        CreateApiKeyCommand(principal, "ci")
    )
    assert created.secret.startswith("pk_")
    stored = world.uow.key_rows[created.key.id]
    assert stored.key_hash == f"digest({created.secret})"
    assert created.secret not in dataclasses.astuple(stored)
    by_key = await world.authenticate()(created.secret)
    assert (by_key.user_id, by_key.method, by_key.api_key_id) == (
        pair.user.id,
        "api_key",
        created.key.id,
    )


async def test_another_users_key_cannot_be_listed_or_deleted(world: World) -> None:
    ann = await world.principal(await world.register("ann@x.org"))
    bob = await world.principal(await world.register("bob@x.org"))
    key = await CreateApiKey(world.uow, world.secrets, world.clock, world.ids)(
        CreateApiKeyCommand(ann, "mine")
    )
    assert (await ListApiKeys(world.uow)(ListApiKeysQuery(bob))).items == []
    with pytest.raises(ApiKeyNotFound):
        await DeleteApiKey(world.uow, world.store)(DeleteApiKeyCommand(bob, key.key.id))
    await DeleteApiKey(world.uow, world.store)(DeleteApiKeyCommand(ann, key.key.id))
    with pytest.raises(TokenInvalid):
        await world.authenticate()(key.secret)


async def test_api_key_lists_page_with_a_cursor(world: World) -> None:
    ann = await world.principal(await world.register("ann@x.org"))
    create = CreateApiKey(world.uow, world.secrets, world.clock, world.ids)
    for n in range(3):
        await create(CreateApiKeyCommand(ann, f"k{n}"))
    first = await ListApiKeys(world.uow)(ListApiKeysQuery(ann, limit=2))
    second = await ListApiKeys(world.uow)(ListApiKeysQuery(ann, limit=2, after=first.next_after))
    assert [k.name for k in first.items + second.items] == ["k0", "k1", "k2"]
    assert second.next_after is None


def create_user(world: World) -> CreateUser:
    return CreateUser(world.uow, world.hasher, world.clock, world.ids, CONFIG)


async def test_the_operator_creates_users_with_a_role_and_plan(world: World) -> None:
    user = await create_user(world)(
        CreateUserCommand("Root@x.org", "correct horse battery", role="admin", plan="pro")
    )
    assert (user.email, user.role, user.plan) == ("root@x.org", "admin", "pro")
    with pytest.raises(EmailTaken):
        await create_user(world)(CreateUserCommand("root@x.org", "correct horse battery"))
    with pytest.raises(InvalidRole):
        await create_user(world)(CreateUserCommand("x@x.org", "correct horse battery", "god"))
    with pytest.raises(InvalidPlan):
        await create_user(world)(CreateUserCommand("y@x.org", "correct horse battery", plan="gold"))


async def test_a_plain_user_cannot_run_admin_use_cases(world: World) -> None:
    user = await world.principal(await world.register("ann@x.org"))
    with pytest.raises(Forbidden):
        await create_user(world)(CreateUserCommand("x@x.org", "correct horse battery", actor=user))
    with pytest.raises(Forbidden):
        await SetRole(world.uow, world.store)(SetRoleCommand("ann@x.org", "admin", actor=user))
    with pytest.raises(Forbidden):
        await ListUsers(world.uow)(ListUsersQuery(actor=user))


async def test_set_role_and_set_plan_find_users_by_email_or_id(world: World) -> None:
    pair = await world.register("ann@x.org")
    await SetRole(world.uow, world.store)(SetRoleCommand("ANN@x.org", "admin"))
    await SetPlan(world.uow, CONFIG, world.store)(SetPlanCommand(pair.user.id, "unlimited"))
    stored = world.uow.user_rows[pair.user.id]
    assert (stored.role, stored.plan) == ("admin", "unlimited")
    with pytest.raises(UserNotFound):
        await SetRole(world.uow, world.store)(SetRoleCommand(UUID(int=999), "admin"))


async def test_deactivating_a_user_ends_every_session_at_once(world: World) -> None:
    pair = await world.register("ann@x.org")
    await SetActive(world.uow, world.store, world.clock, CONFIG)(
        SetActiveCommand("ann@x.org", is_active=False)
    )
    assert world.uow.session_rows[pair.session_id].is_revoked
    assert pair.session_id in world.store.sessions
    with pytest.raises((AccountDisabled, TokenRevoked)):
        await world.principal(pair)


async def test_list_users_pages_through_everyone_oldest_first(world: World) -> None:
    for name in ("a", "b", "c"):
        await world.register(f"{name}@x.org")
    first = await ListUsers(world.uow)(ListUsersQuery(limit=2))
    rest = await ListUsers(world.uow)(ListUsersQuery(limit=2, after=first.next_after))
    assert [u.email for u in first.items + rest.items] == ["a@x.org", "b@x.org", "c@x.org"]


async def test_a_deleted_key_fails_at_the_next_request_though_it_is_cached(world: World) -> None:
    ann = await world.principal(await world.register("ann@x.org"))
    key = await CreateApiKey(world.uow, world.secrets, world.clock, world.ids)(
        CreateApiKeyCommand(ann, "mine")
    )
    for _ in range(3):  # the first use caches the key; the others are served from the cache
        assert (await world.authenticate()(key.secret)).api_key_id == key.key.id
    await DeleteApiKey(world.uow, world.store)(DeleteApiKeyCommand(ann, key.key.id))
    with pytest.raises(TokenInvalid):
        await world.authenticate()(key.secret)


async def test_a_cached_key_of_a_demoted_or_disabled_user_follows_at_once(world: World) -> None:
    ann = await world.principal(await world.register("ann@x.org"))
    key = await CreateApiKey(world.uow, world.secrets, world.clock, world.ids)(
        CreateApiKeyCommand(ann, "mine")
    )
    await SetRole(world.uow, world.store)(SetRoleCommand(ann.user_id, "admin"))
    assert (await world.authenticate()(key.secret)).is_admin
    assert (await world.authenticate()(key.secret)).is_admin
    await SetRole(world.uow, world.store)(SetRoleCommand(ann.user_id, "user"))
    assert not (await world.authenticate()(key.secret)).is_admin
    await SetActive(world.uow, world.store, world.clock, CONFIG)(
        SetActiveCommand(ann.user_id, is_active=False)
    )
    with pytest.raises(AccountDisabled):
        await world.authenticate()(key.secret)


async def test_api_keys_still_work_from_the_database_when_the_store_is_down(
    world: World,
) -> None:
    ann = await world.principal(await world.register("ann@x.org"))
    key = await CreateApiKey(world.uow, world.secrets, world.clock, world.ids)(
        CreateApiKeyCommand(ann, "mine")
    )
    await world.authenticate()(key.secret)  # cached
    world.store.down = True
    assert (await world.authenticate()(key.secret)).api_key_id == key.key.id
    world.store.down = False
    await DeleteApiKey(world.uow, world.store)(DeleteApiKeyCommand(ann, key.key.id))
    with pytest.raises(TokenInvalid):
        await world.authenticate()(key.secret)


async def test_an_admin_change_is_refused_before_commit_when_the_store_is_down(
    world: World,
) -> None:
    pair = await world.register("ann@x.org")
    world.store.down = True
    with pytest.raises(TokenStoreUnavailable):  # raised inside the transaction: rolled back
        await SetRole(world.uow, world.store)(SetRoleCommand(pair.user.id, "admin"))
