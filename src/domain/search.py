"""Search rules that hold whatever the storage: modes, limits, rank fusion."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal, TypeVar, get_args

from domain.errors import InvalidInput
from domain.text import refuse_nul

SearchMode = Literal["semantic", "text", "hybrid"]
SEARCH_MODES: tuple[str, ...] = get_args(SearchMode)
MAX_RESULTS = 100
MAX_QUERY_CHARS = 2000
RRF_K = 60
"""The constant of reciprocal rank fusion (Cormack et al., 2009): it damps the weight of
the very first ranks so one list cannot dominate; 60 is the value the paper found robust."""

T = TypeVar("T", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[T]], k: int = RRF_K
) -> list[tuple[T, float]]:
    """Fuse ranked lists: each item scores sum(1 / (k + rank)) over the lists it appears in
    (rank from 1). Best first; ties keep the order of first appearance."""
    scores: dict[T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


def checked_query(query: str) -> str:
    """A search query is non-blank and bounded (it is embedded and sent to the database)."""
    refuse_nul(query, "q")
    text = query.strip()
    if not text:
        raise InvalidInput(
            "q must not be empty", details={"fields": [{"field": "q", "message": "empty"}]}
        )
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"q is longer than {MAX_QUERY_CHARS} characters",
            details={"fields": [{"field": "q", "message": "too long"}]},
        )
    return text


def capped_limit(limit: int) -> int:
    """At least 1; anything above ``MAX_RESULTS`` is capped, not refused."""
    if limit < 1:
        raise InvalidInput(
            "limit must be at least 1", details={"fields": [{"field": "limit", "message": "< 1"}]}
        )
    return min(limit, MAX_RESULTS)


def checked_mode(mode: str) -> SearchMode:
    if mode not in SEARCH_MODES:
        raise InvalidInput(
            f"mode must be one of {', '.join(SEARCH_MODES)}",
            details={"fields": [{"field": "mode", "message": "unknown mode"}]},
        )
    return mode  # type: ignore[return-value]  # narrowed by the membership test
