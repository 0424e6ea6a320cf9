"""The usearch-backed vector index: isolation, exact-vs-graph switch, persistence."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from adapters.vector.partitions import HnswPartition
from adapters.vector.usearch_index import UsearchVectorIndex
from application.ports.vector_index import VectorRecord, VectorSizeMismatch
from application.search.vectors import pack_vector

DIM = 16


def _index(tmp_path: Path, exact_max: int = 64, **kwargs) -> UsearchVectorIndex:
    return UsearchVectorIndex(
        model="test-model", dim=DIM, path=tmp_path / "index.npz", exact_max=exact_max, **kwargs
    )


def _records(owner: uuid.UUID, vectors: np.ndarray, first_key: int, role: str = "user"):
    return [
        VectorRecord(first_key + i, owner, role, pack_vector(v.tolist()))
        for i, v in enumerate(vectors)
    ]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _exact_top(vectors: np.ndarray, first_key: int, query: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(vectors @ query))[:k]
    return [first_key + int(i) for i in order]


async def test_a_search_never_returns_another_owners_vectors(tmp_path: Path) -> None:
    index = _index(tmp_path)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    shared = _unit(np.random.default_rng(1), 10)
    await index.add(_records(alice, shared, 1) + _records(bob, shared, 100))
    hits = index.search(alice, shared[0].tolist(), 50)
    assert len(hits) == 10
    assert {hit.key for hit in hits} == set(range(1, 11))
    assert index.search(uuid.uuid4(), shared[0].tolist(), 5) == []


async def test_scores_are_cosine_similarities_best_first(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(2), 20)
    await index.add(_records(owner, vectors * 3.0, 1))  # unnormalised on the way in
    hits = index.search(owner, vectors[4].tolist(), 5)
    assert hits[0].key == 5
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert [h.key for h in hits] == _exact_top(vectors, 1, vectors[4], 5)


async def test_small_owners_are_scanned_exactly_and_large_ones_get_a_graph(
    tmp_path: Path,
) -> None:
    index = _index(tmp_path, exact_max=64)
    small, large = uuid.uuid4(), uuid.uuid4()
    rng = np.random.default_rng(3)
    large_vectors = _unit(rng, 300)
    await index.add(_records(small, _unit(rng, 64), 1))
    await index.add(_records(large, large_vectors[:50], 1000))
    assert index.partition_kinds() == {"exact": 2}
    await index.add(_records(large, large_vectors[50:], 1050))  # crosses the threshold
    assert index.partition_kinds() == {"exact": 1, "hnsw": 1}
    assert len(index.keys(large)) == 300
    recall = []
    for query in _unit(rng, 20):
        found = {h.key for h in index.search(large, query.tolist(), 10)}
        recall.append(len(found & set(_exact_top(large_vectors, 1000, query, 10))) / 10)
    # Uniform random 384-d vectors are HNSW's worst case and usearch builds the graph on
    # several threads, so recall varies run to run (0.985 seen); the 0.99 target (P5) is
    # measured on clustered data by bench/search.py. A broken graph scores far lower.
    assert np.mean(recall) >= 0.95


async def test_a_graph_that_shrinks_well_below_the_threshold_goes_back_to_exact(
    tmp_path: Path,
) -> None:
    index = _index(tmp_path, exact_max=64)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(4), 100)
    await index.add(_records(owner, vectors, 1))
    assert index.partition_kinds() == {"hnsw": 1}
    await index.remove(list(range(1, 80)))
    assert index.partition_kinds() == {"exact": 1}
    assert index.keys(owner) == set(range(80, 101))
    assert index.search(owner, vectors[90].tolist(), 1)[0].key == 91


async def test_roles_are_searched_separately_or_together(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(5), 6)
    await index.add(_records(owner, vectors[:3], 1, "user"))
    await index.add(_records(owner, vectors[3:], 4, "assistant"))
    only_prompts = index.search(owner, vectors[4].tolist(), 10, roles={"user"})
    assert {h.key for h in only_prompts} == {1, 2, 3}
    everything = index.search(owner, vectors[4].tolist(), 10)
    assert everything[0].key == 5
    assert len(everything) == 6


async def test_within_restricts_the_search_to_listed_keys_in_both_kinds(tmp_path: Path) -> None:
    index = _index(tmp_path, exact_max=64)
    small, large = uuid.uuid4(), uuid.uuid4()
    vectors = _unit(np.random.default_rng(6), 100)
    await index.add(_records(small, vectors[:10], 1) + _records(large, vectors, 1000))
    assert {h.key for h in index.search(small, vectors[0].tolist(), 10, within=[2, 3])} == {2, 3}
    hits = index.search(large, vectors[0].tolist(), 10, within=[1050, 1060, 7])
    assert {h.key for h in hits} == {1050, 1060}


async def test_removed_keys_are_never_returned(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(7), 10)
    await index.add(_records(owner, vectors, 1))
    await index.remove([1, 2, 999])
    assert 1 not in {h.key for h in index.search(owner, vectors[0].tolist(), 10)}
    assert len(index) == 8


async def test_vectors_of_another_size_are_refused(tmp_path: Path) -> None:
    index = _index(tmp_path)
    owner = uuid.uuid4()
    with pytest.raises(VectorSizeMismatch):
        await index.add([VectorRecord(1, owner, "user", pack_vector([0.5] * (DIM + 1)))])
    with pytest.raises(VectorSizeMismatch):
        index.search(owner, [0.5] * (DIM - 1), 5)
    assert len(index) == 0


async def test_a_saved_index_loads_back_identically(tmp_path: Path) -> None:
    index = _index(tmp_path, exact_max=64)
    small, large = uuid.uuid4(), uuid.uuid4()
    rng = np.random.default_rng(8)
    small_vectors, large_vectors = _unit(rng, 5), _unit(rng, 200)
    await index.add(_records(small, small_vectors, 1) + _records(large, large_vectors, 100))
    await index.save()
    reloaded = _index(tmp_path, exact_max=64)
    assert await reloaded.load()
    assert reloaded.keys() == index.keys()
    assert reloaded.partition_kinds() == {"exact": 1, "hnsw": 1}
    for owner, query in ((small, small_vectors[2]), (large, large_vectors[7])):
        before = index.search(owner, query.tolist(), 5)
        assert [h.key for h in reloaded.search(owner, query.tolist(), 5)] == [h.key for h in before]


async def test_a_file_from_another_embedder_or_a_damaged_file_is_not_loaded(
    tmp_path: Path,
) -> None:
    index = _index(tmp_path)
    await index.add(_records(uuid.uuid4(), _unit(np.random.default_rng(9), 3), 1))
    await index.save()
    other = UsearchVectorIndex(model="other-model", dim=DIM, path=tmp_path / "index.npz")
    assert not await other.load()
    (tmp_path / "index.npz").write_bytes(b"not a zip file")
    assert not await _index(tmp_path).load()
    assert not await _index(tmp_path / "missing").load()


async def test_graphs_store_bfloat16_copies_that_round_trip_closely(tmp_path: Path) -> None:
    index = _index(tmp_path, exact_max=64)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(10), 200)
    await index.add(_records(owner, vectors, 1))
    (partition,) = index._parts[owner].values()
    assert isinstance(partition, HnswPartition)
    assert str(partition.index.dtype) == "ScalarKind.BF16"
    keys, stored = partition.items()
    order = np.argsort(keys)
    assert keys[order].tolist() == list(range(1, 201))
    # bfloat16 keeps 8 significant bits: each component within 2**-8 of its magnitude
    assert np.allclose(stored[order], vectors, rtol=2**-8, atol=1e-6)
    assert not np.array_equal(stored[order], vectors)  # really rounded, not a float32 copy
    hits = index.search(owner, vectors[42].tolist(), 10)
    assert hits[0].key == 43
    exact = {key: float(vectors[key - 1] @ vectors[42]) for key in (h.key for h in hits)}
    assert all(abs(h.score - exact[h.key]) < 5e-3 for h in hits)


async def test_a_saved_bfloat16_graph_loads_back_as_bfloat16(tmp_path: Path) -> None:
    index = _index(tmp_path, exact_max=64)
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(11), 150)
    await index.add(_records(owner, vectors, 1))
    await index.save()
    reloaded = _index(tmp_path, exact_max=64)
    assert await reloaded.load()
    (partition,) = reloaded._parts[owner].values()
    assert isinstance(partition, HnswPartition)
    assert str(partition.index.dtype) == "ScalarKind.BF16"
    for query in vectors[:5]:
        assert [h.key for h in reloaded.search(owner, query.tolist(), 5)] == [
            h.key for h in index.search(owner, query.tolist(), 5)
        ]


async def test_a_full_precision_graph_can_be_chosen(tmp_path: Path) -> None:
    index = _index(tmp_path, exact_max=64, graph_dtype="f32")
    owner = uuid.uuid4()
    vectors = _unit(np.random.default_rng(12), 100)
    await index.add(_records(owner, vectors, 1))
    (partition,) = index._parts[owner].values()
    assert isinstance(partition, HnswPartition)
    keys, stored = partition.items()
    assert np.allclose(stored[np.argsort(keys)], vectors, rtol=1e-6, atol=1e-7)  # float32 as given


async def test_large_owners_with_identical_vectors_never_see_each_other(tmp_path: Path) -> None:
    index = _index(tmp_path, exact_max=64)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    shared = _unit(np.random.default_rng(13), 120)
    await index.add(_records(alice, shared, 1) + _records(bob, shared, 1000))
    assert index.partition_kinds() == {"hnsw": 2}
    for query in shared[:10]:
        assert all(1 <= h.key <= 120 for h in index.search(alice, query.tolist(), 20))
        assert all(1000 <= h.key < 1120 for h in index.search(bob, query.tolist(), 20))


async def test_search_breadth_changes_for_existing_and_later_graphs(tmp_path: Path) -> None:
    index = _index(tmp_path, exact_max=64, expansion_search=40)
    first, second = uuid.uuid4(), uuid.uuid4()
    rng = np.random.default_rng(14)
    await index.add(_records(first, _unit(rng, 100), 1))
    index.set_expansion_search(77)
    await index.add(_records(second, _unit(rng, 100), 1000))
    breadths = {
        part.index.expansion_search
        for roles in index._parts.values()
        for part in roles.values()
        if isinstance(part, HnswPartition)
    }
    assert breadths == {77}
