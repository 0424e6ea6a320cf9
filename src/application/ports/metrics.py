"""Metrics: what the application reports to monitoring (Prometheus in production).

Labels must come from bounded sets (model ids from the catalog, codes, route templates),
never from user input.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol


class Metrics(Protocol):
    @abstractmethod
    def tokens_spent(
        self, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None: ...

    @abstractmethod
    def quota_rejected(self, reason: str) -> None: ...

    @abstractmethod
    def rate_limited(self, group: str) -> None: ...

    @abstractmethod
    def stream_started(self) -> None: ...

    @abstractmethod
    def stream_ended(self) -> None: ...

    @abstractmethod
    def provider_call(
        self, provider: str, model: str, seconds: float, error_code: str | None
    ) -> None: ...

    @abstractmethod
    def cache_lookup(self, hit: bool) -> None: ...


class NoMetrics(Metrics):
    """Reports nothing (unit tests, the CLI)."""

    def tokens_spent(
        self, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None:
        return None

    def quota_rejected(self, reason: str) -> None:
        return None

    def rate_limited(self, group: str) -> None:
        return None

    def stream_started(self) -> None:
        return None

    def stream_ended(self) -> None:
        return None

    def provider_call(
        self, provider: str, model: str, seconds: float, error_code: str | None
    ) -> None:
        return None

    def cache_lookup(self, hit: bool) -> None:
        return None
