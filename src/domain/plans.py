"""Plans: what a user may spend per calendar month, and how many replies may stream at once.

A limit of ``None`` means unlimited. Plans come from configuration (``[plans.<name>]``);
the domain only knows how to read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.errors import Forbidden, TooManyRequests


class QuotaExceeded(TooManyRequests):
    """The plan's monthly tokens, messages or jobs are used up (zero upstream calls were made)."""

    code = "QUOTA_EXCEEDED"
    title = "Quota exceeded"


class TooManyStreams(TooManyRequests):
    """The plan's concurrent-stream cap is reached; retry when a reply has finished."""

    code = "TOO_MANY_STREAMS"
    title = "Too many concurrent streams"


class ModelNotInPlan(Forbidden):
    code = "MODEL_NOT_IN_PLAN"
    title = "Model not included in your plan"


@dataclass(frozen=True, slots=True)
class Plan:
    """Monthly allowance of one plan; ``allowed_models`` empty means every model."""

    name: str
    monthly_tokens: int | None = None
    monthly_messages: int | None = None
    concurrent_streams: int | None = None
    allowed_models: frozenset[str] = field(default_factory=frozenset)
    monthly_jobs: int | None = None
    """Visible background jobs a user may submit per calendar month."""

    def allows_model(self, model_id: str) -> bool:
        return not self.allowed_models or model_id in self.allowed_models

    def check_model(self, model_id: str) -> None:
        if not self.allows_model(model_id):
            raise ModelNotInPlan(f"the {self.name!r} plan does not include model {model_id!r}")


@dataclass(frozen=True, slots=True)
class PlanBook:
    """Every configured plan by name. A user whose plan was removed from the configuration
    gets the default plan rather than an unlimited one (fail safe)."""

    plans: Mapping[str, Plan]
    default: str

    def __post_init__(self) -> None:
        if self.default not in self.plans:
            raise ValueError(f"default plan {self.default!r} is not configured")

    def get(self, name: str) -> Plan:
        return self.plans.get(name) or self.plans[self.default]

    def names(self) -> tuple[str, ...]:
        return tuple(self.plans)
