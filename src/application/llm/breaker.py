"""A circuit breaker per provider: stop hammering an upstream that keeps failing."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Literal

import structlog

from application.llm.policy import BreakerPolicy

BreakerState = Literal["closed", "open", "half_open"]

log = structlog.get_logger("parley.llm.breaker")


class CircuitBreaker:
    """Business rules: closed while the failure ratio over the rolling window stays below
    the threshold (or too few calls were seen); open rejects calls at once; after the
    cool-down exactly one probe goes through (half-open): success closes the circuit,
    failure opens it again for another cool-down."""

    def __init__(self, name: str, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self.name = name
        self._policy = policy
        self._clock = clock
        self._calls: deque[tuple[float, bool]] = deque()
        self._state: BreakerState = "closed"
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._state == "open" and self._clock() - self._opened_at >= self._policy.cooldown_s:
            return "half_open"
        return self._state

    def allow(self) -> bool:
        """May a call go upstream now? Claims the single half-open probe slot."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probe_in_flight:
            self._transition("half_open")
            self._probe_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._probe_in_flight = False
        if self._state == "open":  # a call that began before the circuit opened: no evidence
            return
        if self._state == "half_open":
            self._transition("closed")
            self._calls.clear()
        self._remember(ok=True)

    def record_failure(self) -> None:
        self._probe_in_flight = False
        if self._state == "half_open":
            self._open()
            return
        self._remember(ok=False)
        failures = sum(1 for _, ok in self._calls if not ok)
        if (
            len(self._calls) >= self._policy.min_calls
            and failures / len(self._calls) >= self._policy.failure_ratio
        ):
            self._open()

    def release(self) -> None:
        """The call ended without a verdict (cancelled, or a client error): free the probe."""
        self._probe_in_flight = False

    def _remember(self, *, ok: bool) -> None:
        now = self._clock()
        self._calls.append((now, ok))
        horizon = now - self._policy.window_s
        while self._calls and self._calls[0][0] < horizon:
            self._calls.popleft()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._calls.clear()
        self._transition("open")

    def _transition(self, state: BreakerState) -> None:
        if state != self._state:
            log.warning("circuit_state", provider=self.name, previous=self._state, state=state)
        self._state = state
