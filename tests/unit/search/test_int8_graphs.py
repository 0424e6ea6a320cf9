"""int8 graphs: the walk runs over row numbers, the hits are re-scored from float32 rows."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from adapters.vector import snapshot
from adapters.vector.exact import ExactPartition
from adapters.vector.partitions import RescoredGraph
from adapters.vector.usearch_index import UsearchVectorIndex
from application.ports.vector_index import VectorMatch, VectorRecord
from application.search.vectors import pack_vector

DIM = 16


def _index(tmp_path: Path, **kwargs) -> UsearchVectorIndex:
    settings = {"exact_max": 64, "graph_dtype": "i8", **kwargs}
    return UsearchVectorIndex(model="test-model", dim=DIM, path=tmp_path / "index.npz", **settings)


def _records(owner: uuid.UUID, vectors: np.ndarray, first_key: int) -> list[VectorRecord]:
    return [
        VectorRecord(first_key + i, owner, "user", pack_vector(v.tolist()))
        for i, v in enumerate(vectors)
    ]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _graph(index: UsearchVectorIndex, owner: uuid.UUID) -> RescoredGraph:
    (partition,) = index._parts[owner].values()
    assert isinstance(partition, RescoredGraph)
    return partition


def _assert_rows_match_graph(graph: RescoredGraph) -> None:
    """Every row has its node, under its row number, and nothing else is in the graph."""
    assert len(graph.index) == len(graph.rows)
    assert sorted(np.asarray(graph.index.keys).tolist()) == list(range(len(graph.rows)))


async def test_int8_graph_scores_are_exact_cosines_and_rank_best_first(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(20), 300)
    await index.add(_records(owner, vectors, 1))
    assert str(_graph(index, owner).index.dtype) == "ScalarKind.I8"
    for row in (0, 42, 299):
        hits = index.search(owner, vectors[row].tolist(), 10)
        assert hits[0] == VectorMatch(row + 1, pytest.approx(1.0, abs=1e-6))
        exact = vectors[[h.key - 1 for h in hits]] @ vectors[row]
        assert [h.score for h in hits] == pytest.approx(exact.tolist(), abs=1e-6)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_int8_graph_recall_against_exact_search(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    rng = np.random.default_rng(21)
    vectors = _unit(rng, 400)
    await index.add(_records(owner, vectors, 1))
    recall = []
    for query in _unit(rng, 30):
        truth = set((np.argsort(-(vectors @ query))[:10] + 1).tolist())
        recall.append(len({h.key for h in index.search(owner, query.tolist(), 10)} & truth) / 10)
    assert np.mean(recall) >= 0.95  # random vectors: HNSW's worst case; a broken walk is far lower


async def test_removing_and_replacing_in_an_int8_graph_keeps_rows_and_nodes_together(
    tmp_path: Path,
) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    rng = np.random.default_rng(22)
    vectors = _unit(rng, 200)
    await index.add(_records(owner, vectors, 1))
    await index.remove([1, 50, 199, 200, 7777])  # first, middle, the last two, unknown
    graph = _graph(index, owner)
    _assert_rows_match_graph(graph)
    assert index.keys(owner) == set(range(1, 201)) - {1, 50, 199, 200}
    for key in (2, 51, 120, 198):
        assert index.search(owner, vectors[key - 1].tolist(), 1)[0].key == key
    replacement = _unit(rng, 1)
    await index.add(_records(owner, replacement, 120))  # key 120 gets a new vector
    _assert_rows_match_graph(graph)
    hit = index.search(owner, replacement[0].tolist(), 1)[0]
    assert hit.key == 120 and hit.score == pytest.approx(1.0, abs=1e-6)
    for key in (1, 50, 199, 200):
        assert key not in {h.key for h in index.search(owner, vectors[key - 1].tolist(), 20)}


async def test_an_int8_graph_shrinks_back_to_its_exact_float32_rows(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(23), 100)
    await index.add(_records(owner, vectors, 1))
    await index.remove(list(range(1, 80)))
    (partition,) = index._parts[owner].values()
    assert isinstance(partition, ExactPartition)
    keys, stored = partition.items()
    order = np.argsort(keys)
    assert keys[order].tolist() == list(range(80, 101))
    # float32 as given (renormalised on the way in), not rounded like bf16's 2**-8
    assert np.abs(stored[order] - vectors[79:]).max() < 1e-6


async def test_a_saved_int8_graph_loads_back_with_the_same_answers(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(24), 150)
    await index.add(_records(owner, vectors, 1))
    await index.remove([3, 77])  # rows moved: the file must keep rows and nodes aligned
    await index.save()
    reloaded = _index(tmp_path)
    assert await reloaded.load()
    graph = _graph(reloaded, owner)
    _assert_rows_match_graph(graph)
    assert graph.scale == _graph(index, owner).scale
    for query in vectors[:10]:
        assert reloaded.search(owner, query.tolist(), 5) == index.search(owner, query.tolist(), 5)


async def test_a_file_of_the_previous_format_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = _index(tmp_path, graph_dtype="bf16")
    small, large = uuid.uuid4(), uuid.uuid4()
    rng = np.random.default_rng(25)
    await index.add(_records(small, _unit(rng, 5), 1) + _records(large, _unit(rng, 100), 100))
    monkeypatch.setattr(snapshot, "FORMAT", 1)
    await index.save()
    monkeypatch.undo()
    reloaded = _index(tmp_path, graph_dtype="bf16")
    assert await reloaded.load()
    assert reloaded.keys() == index.keys()
    query = _unit(rng, 1)[0].tolist()
    for owner in (small, large):
        assert reloaded.search(owner, query, 5) == index.search(owner, query, 5)


async def test_graphs_of_the_other_layout_are_left_for_catch_up_to_rebuild(
    tmp_path: Path,
) -> None:
    before = _index(tmp_path, graph_dtype="bf16")
    small, large = uuid.uuid4(), uuid.uuid4()
    rng = np.random.default_rng(26)
    vectors = _unit(rng, 100)
    await before.add(_records(small, _unit(rng, 5), 1) + _records(large, vectors, 100))
    await before.save()
    reloaded = _index(tmp_path)  # int8 graphs now
    assert await reloaded.load()
    assert reloaded.keys() == set(range(1, 6))  # the bf16 graph's keys are missing...
    await reloaded.add(_records(large, vectors, 100))  # ...so catch-up adds them back
    assert isinstance(_graph(reloaded, large), RescoredGraph)
    assert reloaded.search(large, vectors[3].tolist(), 1)[0].key == 103


@pytest.mark.parametrize("size", [5, 63, 64, 65, 300])
def test_an_exact_scan_returns_the_true_top_k_best_first(size: int) -> None:
    rng = np.random.default_rng(size)
    vectors = _unit(rng, size)
    partition = ExactPartition.from_arrays(np.arange(10, 10 + size, dtype=np.int64), vectors)
    query = _unit(rng, 1)[0]
    keys, scores = partition.search(query, 10, None)
    order = np.argsort(-(vectors @ query))[:10]
    assert keys == (order + 10).tolist()
    assert scores == pytest.approx((vectors @ query)[order].tolist(), abs=1e-6)
