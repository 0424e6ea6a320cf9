"""What the process knows about its vector index replica (health, refusals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.errors import Unavailable


class ReindexRequired(Unavailable):
    """Stored vectors come from another embedder: comparing them with new queries would
    return nonsense, so semantic search refuses until ``parley reindex`` has run."""

    code = "REINDEX_REQUIRED"
    title = "Search index needs a rebuild"


@dataclass
class IndexStatus:
    """Shared by catch-up (writer), search (reader) and the health probe (reader)."""

    model: str
    caught_up: bool = False
    foreign_models: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None

    def require_consistent(self) -> None:
        if self.foreign_models:
            names = ", ".join(sorted(self.foreign_models))
            raise ReindexRequired(
                f"stored vectors were made by {names}, the configured embedder is "
                f"{self.model}: run `parley reindex`"
            )
