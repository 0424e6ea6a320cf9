"""Operator tools name an account by email through one use case."""

from __future__ import annotations

import pytest

from application.identity.find_user_by_email import FindUserByEmail
from domain.users import UserNotFound
from tests.unit.identity.conftest import World
from tests.unit.identity.fakes import SameUnitOfWork


async def test_finds_the_account_whatever_the_case_and_spaces_of_its_email(world: World) -> None:
    pair = await world.register("ann@x.org")
    found = await FindUserByEmail(SameUnitOfWork(world.uow))("  ANN@x.org ")
    assert found.id == pair.user.id


async def test_an_unknown_email_is_user_not_found(world: World) -> None:
    await world.register("ann@x.org")
    with pytest.raises(UserNotFound):
        await FindUserByEmail(SameUnitOfWork(world.uow))("bob@x.org")
