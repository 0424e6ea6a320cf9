"""One contract for both quota ledgers: in-process memory and Redis (atomic Lua)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.redis.client import create_redis
from adapters.redis.quota_ledger import RedisQuotaLedger
from application.ports.quota_ledger import (
    QuotaAsk,
    QuotaLedger,
    QuotaLedgerUnavailable,
    QuotaLimits,
    QuotaState,
)
from tests.integration.identity_stores import UNREACHABLE_REDIS
from tests.integration.usage.stores import LEDGER_KINDS, quota_ledgers

PERIOD = "2026-11"
TTL = 60.0
ONE_MESSAGE = QuotaAsk(tokens=10, min_tokens=10)


@pytest.fixture(params=LEDGER_KINDS)
async def ledgers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[QuotaLedger, QuotaLedger]]:
    async with quota_ledgers(request.param) as pair:
        yield pair


@pytest.fixture
def ledger(ledgers: tuple[QuotaLedger, QuotaLedger]) -> QuotaLedger:
    return ledgers[0]


async def seeded(ledger: QuotaLedger, tokens: int = 0, messages: int = 0) -> str:
    account = uuid.uuid4().hex
    await ledger.seed(account, PERIOD, tokens=tokens, messages=messages)
    return account


async def test_an_unseeded_period_asks_to_be_seeded(ledger: QuotaLedger) -> None:
    account = uuid.uuid4().hex
    reservation = await ledger.reserve(account, PERIOD, ONE_MESSAGE, QuotaLimits(), TTL)
    assert reservation.needs_seed
    assert await ledger.state(account, PERIOD) is None


async def test_seeding_twice_keeps_the_first_totals(ledger: QuotaLedger) -> None:
    account = await seeded(ledger, tokens=40, messages=4)
    await ledger.seed(account, PERIOD, tokens=0, messages=0)
    assert await ledger.state(account, PERIOD) == QuotaState(tokens_used=40, messages_used=4)


async def test_a_grant_is_held_until_settled_with_the_real_usage(ledger: QuotaLedger) -> None:
    account = await seeded(ledger, tokens=5, messages=1)
    reservation = await ledger.reserve(
        account, PERIOD, QuotaAsk(tokens=100, min_tokens=10), QuotaLimits(tokens=1000), TTL
    )
    assert reservation.hold is not None and reservation.hold.tokens == 100
    assert await ledger.state(account, PERIOD) == QuotaState(5, 1, 100, 1, 0)
    await ledger.settle(reservation.hold, tokens=30, messages=1)
    assert await ledger.state(account, PERIOD) == QuotaState(35, 2, 0, 0, 0)


async def test_a_short_quota_grants_what_is_left_if_it_is_worth_it(ledger: QuotaLedger) -> None:
    account = await seeded(ledger, tokens=950)
    limits = QuotaLimits(tokens=1000)
    clamped = await ledger.reserve(account, PERIOD, QuotaAsk(500, min_tokens=20), limits, TTL)
    assert clamped.hold is not None and clamped.hold.tokens == 50
    refused = await ledger.reserve(account, PERIOD, QuotaAsk(500, min_tokens=1), limits, TTL)
    assert refused.hold is None and refused.denied == "tokens"


async def test_the_message_limit_counts_live_holds(ledger: QuotaLedger) -> None:
    account = await seeded(ledger, messages=1)
    limits = QuotaLimits(messages=3)
    granted = [await ledger.reserve(account, PERIOD, ONE_MESSAGE, limits, TTL) for _ in range(2)]
    assert all(r.hold is not None for r in granted)
    denied = await ledger.reserve(account, PERIOD, ONE_MESSAGE, limits, TTL)
    assert denied.denied == "messages"
    assert denied.state == QuotaState(0, 1, 20, 2, 0)


async def test_a_release_gives_the_reservation_back(ledger: QuotaLedger) -> None:
    account = await seeded(ledger)
    limits = QuotaLimits(messages=1)
    first = await ledger.reserve(account, PERIOD, ONE_MESSAGE, limits, TTL)
    assert first.hold is not None
    await ledger.settle(first.hold, tokens=0, messages=0)
    again = await ledger.reserve(account, PERIOD, ONE_MESSAGE, limits, TTL)
    assert again.hold is not None


async def test_streams_are_capped_and_free_their_slot_when_settled(ledger: QuotaLedger) -> None:
    account = await seeded(ledger)
    limits = QuotaLimits(streams=2)
    stream = QuotaAsk(10, 10, stream=True)
    open_ = [await ledger.reserve(account, PERIOD, stream, limits, TTL) for _ in range(2)]
    third = await ledger.reserve(account, PERIOD, stream, limits, TTL)
    assert third.denied == "streams" and third.state is not None
    assert third.state.streams_open == 2
    not_a_stream = await ledger.reserve(account, PERIOD, ONE_MESSAGE, limits, TTL)
    assert not_a_stream.hold is not None
    assert open_[0].hold is not None
    await ledger.settle(open_[0].hold, tokens=10, messages=1)
    after = await ledger.reserve(account, PERIOD, stream, limits, TTL)
    assert after.hold is not None


async def test_an_expired_hold_frees_its_quota(ledger: QuotaLedger) -> None:
    account = await seeded(ledger)
    limits = QuotaLimits(messages=1, streams=1)
    first = await ledger.reserve(account, PERIOD, QuotaAsk(10, 10, stream=True), limits, 0.05)
    assert first.hold is not None
    await asyncio.sleep(0.2)  # the process that held it "died"
    again = await ledger.reserve(account, PERIOD, QuotaAsk(10, 10, stream=True), limits, TTL)
    assert again.hold is not None


async def test_accounts_and_periods_are_independent(ledger: QuotaLedger) -> None:
    limits = QuotaLimits(messages=1)
    one, two = await seeded(ledger, messages=1), await seeded(ledger)
    assert (await ledger.reserve(one, PERIOD, ONE_MESSAGE, limits, TTL)).denied == "messages"
    assert (await ledger.reserve(two, PERIOD, ONE_MESSAGE, limits, TTL)).hold is not None
    assert (await ledger.reserve(one, "2026-12", ONE_MESSAGE, limits, TTL)).needs_seed


@pytest.mark.parametrize("limited", ["messages", "tokens"])
async def test_2n_concurrent_reservations_against_n_left_grant_exactly_n(
    ledgers: tuple[QuotaLedger, QuotaLedger], limited: str
) -> None:
    n = 25
    first, second = ledgers  # two instances sharing one store
    account = await seeded(first, tokens=1000, messages=10)
    limits = (
        QuotaLimits(messages=10 + n) if limited == "messages" else QuotaLimits(tokens=1000 + 10 * n)
    )
    results = await asyncio.gather(
        *(
            (first if i % 2 else second).reserve(account, PERIOD, ONE_MESSAGE, limits, TTL)
            for i in range(2 * n)
        )
    )
    granted = [r for r in results if r.hold is not None]
    assert len(granted) == n
    assert all(r.denied == limited for r in results if r.hold is None)


async def test_an_unreachable_redis_is_reported_as_unavailable() -> None:
    client = create_redis(UNREACHABLE_REDIS, 0.2)
    ledger = RedisQuotaLedger(client, "parley-test:")
    try:
        with pytest.raises(QuotaLedgerUnavailable) as caught:
            await ledger.reserve("a", PERIOD, ONE_MESSAGE, QuotaLimits(), TTL)
        assert caught.value.code == "QUOTA_UNAVAILABLE"
        with pytest.raises(QuotaLedgerUnavailable):
            await ledger.seed("a", PERIOD, tokens=0, messages=0)
    finally:
        await client.aclose()
