"""MeteredSpending: plans, quota reservations and usage accounting (with typed fakes and
the in-process ledger)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.memory.quota_ledger import MemoryQuotaLedger
from application.ports.quota_ledger import QuotaLedger, QuotaLedgerUnavailable
from application.ports.spend_guard import SpendRequest
from application.usage.metered_spending import MeteredSpending
from application.usage.usage_recorder import UsageRecorder
from domain.catalog import ModelCatalog, ModelSpec
from domain.plans import ModelNotInPlan, Plan, PlanBook, QuotaExceeded, TooManyStreams
from domain.usage import UsageEntry, UsageTotals
from domain.users import User
from tests.unit.identity.fakes import InMemoryUsers
from tests.unit.usage.fakes import (
    DownLedger,
    FixedClock,
    InMemoryUsage,
    RecordingMetrics,
    UsageUnitOfWork,
    UsageUnitOfWorkFactory,
)

CHEAP = ModelSpec("cheap", "fake", "cheap", input_price_per_million=Decimal(1),
                  output_price_per_million=Decimal(2))  # fmt: skip
PRICEY = ModelSpec("pricey", "fake", "pricey", input_price_per_million=Decimal(10),
                   output_price_per_million=Decimal(30))  # fmt: skip
CATALOG = ModelCatalog((CHEAP, PRICEY), "cheap")
PLANS = PlanBook(
    {
        "tiny": Plan("tiny", monthly_tokens=1000, monthly_messages=3, concurrent_streams=1),
        "basic": Plan("basic", allowed_models=frozenset({"cheap"})),
        "unlimited": Plan("unlimited"),
    },
    default="tiny",
)


class World:
    def __init__(self, ledger: QuotaLedger | None = None) -> None:
        self.usage = InMemoryUsage()
        self.factory = UsageUnitOfWorkFactory(self.usage)
        self.recorder = UsageRecorder(self.factory, interval_s=60)
        self.metrics = RecordingMetrics()
        self.clock = FixedClock()
        self.ledger = ledger or MemoryQuotaLedger()
        self.spending = MeteredSpending(
            PLANS, self.ledger, self.recorder, CATALOG, self.factory, self.clock, self.metrics
        )
        self.user = uuid.uuid4()

    def ask(
        self, plan: str = "tiny", *, prompt: int = 10, max_tokens: int = 100, stream: bool = False,
        model: ModelSpec = CHEAP,
    ) -> SpendRequest:  # fmt: skip
        return SpendRequest(self.user, plan, None, model, prompt, max_tokens, stream)


async def test_a_request_within_quota_gets_the_budget_it_asked_for() -> None:
    world = World()
    ticket = await world.spending.reserve(world.ask())
    assert ticket.max_tokens == 100 and ticket.hold is not None


async def test_a_used_up_message_quota_is_refused_until_next_month() -> None:
    world = World()
    for _ in range(3):
        ticket = await world.spending.reserve(world.ask())
        await world.spending.settle(ticket, model_id="cheap", prompt_tokens=5, completion_tokens=5)
    with pytest.raises(QuotaExceeded) as caught:
        await world.spending.reserve(world.ask())
    error = caught.value
    assert error.code == "QUOTA_EXCEEDED"
    assert error.details == {"quota": "messages", "limit": 3, "plan": "tiny"}
    assert error.retry_after_s == 6 * 86400 + 12 * 3600  # until 1 December, 00:00 UTC
    assert world.metrics.rejections == ["messages"]


async def test_background_work_spends_tokens_but_not_the_plans_messages() -> None:
    world = World()
    for _ in range(5):  # more than the plan's 3 messages
        ticket = await world.spending.reserve(
            dataclasses.replace(world.ask(max_tokens=50), counts_as_message=False)
        )
        await world.spending.settle(
            ticket, model_id="cheap", prompt_tokens=10, completion_tokens=40
        )
    await world.recorder.flush()
    totals = await world.usage.totals_since(world.user, date(2026, 1, 1))
    assert (totals.messages, totals.prompt_tokens, totals.completion_tokens) == (0, 50, 200)
    for _ in range(3):  # all three of the plan's messages are still there
        ticket = await world.spending.reserve(world.ask(max_tokens=10))
        await world.spending.settle(ticket, model_id="cheap", prompt_tokens=5, completion_tokens=5)
    with pytest.raises(QuotaExceeded) as caught:
        await world.spending.reserve(world.ask(max_tokens=10))
    assert caught.value.details is not None and caught.value.details["quota"] == "messages"


async def test_a_short_token_quota_shrinks_the_completion_budget() -> None:
    world = World()
    first = await world.spending.reserve(world.ask(prompt=10, max_tokens=100))
    await world.spending.settle(first, model_id="cheap", prompt_tokens=10, completion_tokens=900)
    shrunk = await world.spending.reserve(world.ask(prompt=10, max_tokens=100))
    assert shrunk.max_tokens == 80  # 1000 - 910 spent - 10 prompt


async def test_a_prompt_that_leaves_no_room_for_a_reply_is_refused() -> None:
    world = World()
    with pytest.raises(QuotaExceeded) as caught:
        await world.spending.reserve(world.ask(prompt=1000, max_tokens=100))
    assert caught.value.details is not None and caught.value.details["quota"] == "tokens"


async def test_a_model_outside_the_plan_is_refused_before_any_reservation() -> None:
    ledger = DownLedger()
    world = World(ledger)
    with pytest.raises(ModelNotInPlan):
        await world.spending.reserve(world.ask("basic", model=PRICEY))
    assert ledger.calls == 0


async def test_a_plan_without_limits_needs_no_ledger() -> None:
    world = World(DownLedger())
    ticket = await world.spending.reserve(world.ask("unlimited"))
    assert ticket.hold is None and ticket.max_tokens == 100


async def test_spending_fails_closed_while_the_ledger_is_down() -> None:
    world = World(DownLedger())
    with pytest.raises(QuotaLedgerUnavailable) as caught:
        await world.spending.reserve(world.ask())
    assert caught.value.code == "QUOTA_UNAVAILABLE"


async def test_the_quota_starts_from_usage_already_recorded_this_month() -> None:
    world = World()
    spent = UsageTotals(messages=3, prompt_tokens=10, completion_tokens=10)
    await world.usage.add([UsageEntry(date(2026, 11, 2), world.user, "cheap", None, spent)])
    last_month = UsageEntry(date(2026, 10, 30), uuid.uuid4(), "cheap", None, spent)
    await world.usage.add([last_month])
    with pytest.raises(QuotaExceeded):
        await world.spending.reserve(world.ask())


async def test_streams_beyond_the_plan_cap_are_refused_with_their_own_code() -> None:
    world = World()
    first = await world.spending.reserve(world.ask(stream=True))
    with pytest.raises(TooManyStreams) as caught:
        await world.spending.reserve(world.ask(stream=True))
    assert caught.value.code == "TOO_MANY_STREAMS" and caught.value.retry_after_s > 0
    assert world.metrics.streams == 1
    await world.spending.release(first)
    assert world.metrics.streams == 0
    await world.spending.reserve(world.ask(stream=True))


async def test_settling_records_usage_priced_by_the_model_that_answered() -> None:
    world = World()
    ticket = await world.spending.reserve(world.ask())
    await world.spending.settle(
        ticket, model_id="pricey", prompt_tokens=100_000, completion_tokens=10_000
    )
    await world.recorder.flush()
    (entry,) = world.usage.rows.values()
    assert (entry.model, entry.user_id, entry.api_key_id) == ("pricey", world.user, None)
    assert entry.totals == UsageTotals(1, 100_000, 10_000, Decimal("1.3"))
    assert world.metrics.spent == [("pricey", 100_000, 10_000, 1.3)]


async def test_a_release_records_nothing_and_gives_the_quota_back() -> None:
    world = World()
    for _ in range(5):
        await world.spending.release(await world.spending.reserve(world.ask()))
    await world.recorder.flush()
    assert world.usage.rows == {}
    await world.spending.reserve(world.ask())


async def test_without_a_plan_the_accounts_plan_is_read_through_the_callers_unit_of_work() -> None:
    world = World()
    owner = User(world.user, "a@b.org", "a", "user", "tiny", True, "h", datetime.now(UTC))
    caller_uow = UsageUnitOfWork(world.usage)
    caller_uow.users = InMemoryUsers({owner.id: owner})  # only the caller's uow knows users
    request = SpendRequest(world.user, None, None, CHEAP, 10, 100)
    for _ in range(3):
        ticket = await world.spending.reserve(request, caller_uow)
        await world.spending.settle(ticket, model_id="cheap", prompt_tokens=1, completion_tokens=1)
    with pytest.raises(QuotaExceeded):  # the tiny plan's 3 messages are used up
        await world.spending.reserve(request, caller_uow)
