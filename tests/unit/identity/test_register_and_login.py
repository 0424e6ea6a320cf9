"""Register and Login use cases, driven with typed fakes."""

from __future__ import annotations

import pytest

from application.identity.login import Login, LoginCommand
from domain.credentials import AccountDisabled, InvalidCredentials
from domain.errors import TooManyRequests
from domain.passwords import WeakPassword
from domain.users import EmailTaken
from tests.unit.identity.conftest import World


def login_use_case(world: World) -> Login:
    return Login(world.uow, world.hasher, world.tokens, world.throttle)


async def test_register_creates_a_plain_user_on_the_default_plan_and_signs_in(
    world: World,
) -> None:
    pair = await world.register("Ann@X.org")
    stored = world.uow.user_rows[pair.user.id]
    assert (stored.email, stored.role, stored.plan) == ("ann@x.org", "user", "free")
    assert stored.password_hash == "hashed:v1:correct horse battery"
    assert pair.session_id in world.uow.session_rows
    assert pair.expires_in == 900


async def test_registering_a_taken_email_in_another_case_is_email_taken(world: World) -> None:
    await world.register("ann@x.org")
    with pytest.raises(EmailTaken) as caught:
        await world.register("ANN@x.org")
    assert caught.value.code == "EMAIL_TAKEN"


async def test_registering_with_a_common_password_is_refused_before_hashing(
    world: World,
) -> None:
    with pytest.raises(WeakPassword):
        await world.register("ann@x.org", "password123")
    assert world.uow.user_rows == {}


async def test_login_with_the_right_password_opens_a_new_session(world: World) -> None:
    first = await world.register("ann@x.org")
    pair = await login_use_case(world)(LoginCommand("ann@x.org", "correct horse battery"))
    assert pair.user.id == first.user.id
    assert pair.session_id != first.session_id
    assert len(world.uow.session_rows) == 2


async def test_unknown_email_and_wrong_password_fail_identically_after_equal_work(
    world: World,
) -> None:
    await world.register("ann@x.org")
    login = login_use_case(world)
    with pytest.raises(InvalidCredentials) as wrong:
        await login(LoginCommand("ann@x.org", "not the password"))
    with pytest.raises(InvalidCredentials) as unknown:
        await login(LoginCommand("bob@x.org", "not the password"))
    assert (wrong.value.code, wrong.value.detail) == (unknown.value.code, unknown.value.detail)
    # One real and one dummy verification: the unknown email still costs a hash check.
    assert world.hasher.verified == ["hashed:v1:correct horse battery", None]


async def test_a_malformed_email_at_login_looks_like_any_unknown_one(world: World) -> None:
    with pytest.raises(InvalidCredentials):
        await login_use_case(world)(LoginCommand("not-an-email", "whatever pw"))


async def test_a_disabled_account_is_told_so_only_with_the_right_password(world: World) -> None:
    pair = await world.register("ann@x.org")
    world.uow.user_rows[pair.user.id].is_active = False
    login = login_use_case(world)
    with pytest.raises(InvalidCredentials):
        await login(LoginCommand("ann@x.org", "wrong password"))
    with pytest.raises(AccountDisabled):
        await login(LoginCommand("ann@x.org", "correct horse battery"))


async def test_login_upgrades_a_hash_made_with_old_parameters(world: World) -> None:
    pair = await world.register("ann@x.org")
    world.hasher.params = "v2"
    await login_use_case(world)(LoginCommand("ann@x.org", "correct horse battery"))
    assert world.uow.user_rows[pair.user.id].password_hash == "hashed:v2:correct horse battery"


async def test_login_is_throttled_per_account_before_checking_the_password(
    world: World,
) -> None:
    await world.register("ann@x.org")
    login = login_use_case(world)
    for _ in range(3):  # CONFIG allows 3 per account
        with pytest.raises(InvalidCredentials):
            await login(LoginCommand("ann@x.org", "guess guess", client_ip=None))
    checks_before = len(world.hasher.verified)
    with pytest.raises(TooManyRequests) as caught:
        await login(LoginCommand("ANN@x.org", "correct horse battery"))
    assert caught.value.code == "RATE_LIMITED"
    assert caught.value.retry_after_s == 42.0
    assert len(world.hasher.verified) == checks_before  # no hashing work when throttled


async def test_login_is_throttled_per_ip_across_accounts(world: World) -> None:
    login = login_use_case(world)
    for n in range(5):  # CONFIG allows 5 per IP
        with pytest.raises(InvalidCredentials):
            await login(LoginCommand(f"user{n}@x.org", "guess guess", client_ip="203.0.113.9"))
    with pytest.raises(TooManyRequests):
        await login(LoginCommand("fresh@x.org", "guess guess", client_ip="203.0.113.9"))
    with pytest.raises(InvalidCredentials):  # another address is not affected
        await login(LoginCommand("fresh@x.org", "guess guess", client_ip="198.51.100.1"))
