"""Which context sources this server has: what a conversation may opt into."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from domain.grounding import check_sources


@dataclass(frozen=True, slots=True)
class ContextSourceCatalog:
    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, names: Iterable[str]) -> ContextSourceCatalog:
        return cls(frozenset(names))

    def check(self, requested: Sequence[str]) -> tuple[str, ...]:
        """The requested names, deduplicated; an unknown one is a 400."""
        return check_sources(requested, self.names)
