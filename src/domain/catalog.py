"""The model catalog: what each configured model is, where it runs, and what it costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from domain.errors import NotFound

_MILLION = Decimal(1_000_000)


class ModelNotFound(NotFound):
    code = "MODEL_NOT_FOUND"
    title = "Model not found"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model clients may ask for, by Parley id."""

    id: str
    provider: str
    upstream_model: str
    context_window: int = 8192
    max_output_tokens: int = 4096
    input_price_per_million: Decimal = Decimal(0)
    output_price_per_million: Decimal = Decimal(0)
    fallbacks: tuple[str, ...] = ()
    allowed_params: frozenset[str] = field(default_factory=frozenset)

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        return (
            Decimal(prompt_tokens) * self.input_price_per_million
            + Decimal(completion_tokens) * self.output_price_per_million
        ) / _MILLION

    def bound_max_tokens(self, requested: int | None, server_cap: int) -> int:
        """The server always bounds max_tokens: never above the model's or the server's cap."""
        cap = min(self.max_output_tokens, server_cap)
        return cap if requested is None else max(1, min(requested, cap))


@dataclass(frozen=True, slots=True)
class ModelCatalog:
    models: tuple[ModelSpec, ...]
    default_model: str

    def get(self, model_id: str | None) -> ModelSpec:
        wanted = model_id or self.default_model
        for spec in self.models:
            if spec.id == wanted:
                return spec
        raise ModelNotFound(f"model {wanted!r} is not configured")

    def cost_usd(
        self, answered_by: str | None, requested: str, prompt_tokens: int, completion_tokens: int
    ) -> Decimal:
        """The one pricing rule: priced as the model that answered, else (a model no longer
        configured) as the one requested, else free."""
        for candidate in (answered_by, requested):
            for spec in self.models:
                if spec.id == candidate:
                    return spec.cost_usd(prompt_tokens, completion_tokens)
        return Decimal(0)

    def ids(self) -> list[str]:
        return [m.id for m in self.models]
