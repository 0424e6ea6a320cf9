from __future__ import annotations

from application.llm.breaker import CircuitBreaker
from application.llm.health import LLMHealthProbe
from application.llm.policy import BreakerPolicy
from application.llm.router import LLMRouter
from domain.catalog import ModelCatalog, ModelSpec
from tests.unit.llm.scripted import ScriptedProvider

POLICY = BreakerPolicy(failure_ratio=0.5, min_calls=4, window_s=10, cooldown_s=5)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("p", POLICY, clock)


def test_it_stays_closed_until_enough_calls_were_seen() -> None:
    b = breaker(FakeClock())
    for _ in range(3):
        b.record_failure()
    assert b.state == "closed" and b.allow()


def test_it_opens_when_the_failure_ratio_reaches_the_threshold() -> None:
    b = breaker(FakeClock())
    b.record_success()
    b.record_success()
    b.record_failure()
    assert b.state == "closed"
    b.record_failure()
    assert b.state == "open" and not b.allow()


def test_old_calls_leave_the_rolling_window() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 11
    b.record_failure()
    assert b.state == "closed"


def test_after_the_cooldown_exactly_one_probe_is_let_through() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(4):
        b.record_failure()
    clock.now += 5
    assert b.state == "half_open"
    assert b.allow()
    assert not b.allow()


def test_a_successful_probe_closes_the_circuit() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(4):
        b.record_failure()
    clock.now += 5
    assert b.allow()
    b.record_success()
    assert b.state == "closed" and b.allow()


def test_a_failed_probe_opens_it_again_for_another_cooldown() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(4):
        b.record_failure()
    clock.now += 5
    assert b.allow()
    b.record_failure()
    assert b.state == "open"
    clock.now += 4.9
    assert not b.allow()


def test_a_released_probe_lets_the_next_caller_probe() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(4):
        b.record_failure()
    clock.now += 5
    assert b.allow()
    b.release()
    assert b.allow()


async def test_the_llm_health_component_reports_open_circuits_as_degraded() -> None:
    catalog = ModelCatalog((ModelSpec("m", "a", "m"),), "m")
    router = LLMRouter({"a": ScriptedProvider("a"), "b": ScriptedProvider("b")}, catalog)
    probe = LLMHealthProbe(router)
    healthy = await probe.check()
    assert healthy.status == "ok" and healthy.detail == "a: closed; b: closed"
    for _ in range(10):
        router.breakers["a"].record_failure()
    degraded = await probe.check()
    assert degraded.status == "degraded" and "a: open" in (degraded.detail or "")
    for _ in range(10):
        router.breakers["b"].record_failure()
    assert (await probe.check()).status == "down"


class UnreachableProvider(ScriptedProvider):
    async def models(self) -> list[str]:
        raise ConnectionError("down")


async def test_an_unreachable_provider_makes_the_llm_component_degraded() -> None:
    catalog = ModelCatalog((ModelSpec("m", "a", "m"),), "m")
    router = LLMRouter({"a": ScriptedProvider("a"), "b": UnreachableProvider("b")}, catalog)
    health = await LLMHealthProbe(router).check()
    assert health.status == "degraded" and "b: closed, unreachable" in (health.detail or "")


async def test_reachability_is_cached_between_checks() -> None:
    class Counting(ScriptedProvider):
        listed = 0

        async def models(self) -> list[str]:
            Counting.listed += 1
            return []

    catalog = ModelCatalog((ModelSpec("m", "a", "m"),), "m")
    clock = FakeClock()
    probe = LLMHealthProbe(LLMRouter({"a": Counting("a")}, catalog), ttl_s=30, clock=clock)
    await probe.check()
    await probe.check()
    assert Counting.listed == 1
    clock.now += 31
    await probe.check()
    assert Counting.listed == 2
