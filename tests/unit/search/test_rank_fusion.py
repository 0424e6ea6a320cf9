"""Reciprocal rank fusion and the search request rules."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.search import (
    MAX_RESULTS,
    capped_limit,
    checked_mode,
    checked_query,
    reciprocal_rank_fusion,
)


def test_an_item_ranked_well_in_both_lists_beats_one_ranked_first_in_only_one() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d", "a"]])
    assert [item for item, _ in fused][:2] == ["b", "a"]


def test_scores_follow_the_formula_with_k_60() -> None:
    fused = dict(reciprocal_rank_fusion([["x", "y"], ["y"]]))
    assert fused["x"] == pytest.approx(1 / 61)
    assert fused["y"] == pytest.approx(1 / 62 + 1 / 61)


def test_fusing_one_list_keeps_its_order() -> None:
    assert [item for item, _ in reciprocal_rank_fusion([["c", "a", "b"]])] == ["c", "a", "b"]


def test_fusing_nothing_gives_nothing() -> None:
    assert reciprocal_rank_fusion([[], []]) == []


def test_limit_is_capped_at_one_hundred_and_must_be_positive() -> None:
    assert capped_limit(1000) == MAX_RESULTS == 100
    assert capped_limit(7) == 7
    with pytest.raises(InvalidInput):
        capped_limit(0)


def test_blank_or_huge_queries_are_refused() -> None:
    assert checked_query("  sourdough  ") == "sourdough"
    with pytest.raises(InvalidInput):
        checked_query("   ")
    with pytest.raises(InvalidInput):
        checked_query("x" * 5000)


def test_only_the_three_modes_are_accepted() -> None:
    assert checked_mode("hybrid") == "hybrid"
    with pytest.raises(InvalidInput) as caught:
        checked_mode("fuzzy")
    assert caught.value.details == {"fields": [{"field": "mode", "message": "unknown mode"}]}
