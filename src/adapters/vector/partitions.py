"""One owner's vectors of one role, searched exactly (small) or through usearch HNSW (large).

usearch has no filtered search from Python, and filtering a shared graph after the fact
loses recall for small owners (their few vectors are scattered among everybody's). So
every owner gets private storage: a contiguous float32 matrix scanned with one
matrix-vector product while small (exact, recall 1.0), and a private HNSW graph once it
outgrows that.

A graph stores its vectors as bfloat16 (half of float32's bytes, so each hop of the walk
touches half the memory; usearch scores bf16 with the CPU's native instructions where it
has them). Measured on the benchmark's clustered data, bf16 at one ``expansion_search``
gives the same recall@10 as float32 within 0.005 at 0.6-0.8x its CPU per query. int8 was
tried too: its walk is cheapest but ranks neighbours coarsely (recall 0.80 where bf16
has 0.93), and re-scoring its candidates exactly from a float32 copy cost more in Python
than the walk saved. Scores a graph returns carry bf16's rounding (about 1e-3), and so
do the vectors of a graph that shrinks back to an exact scan (the database keeps the
float32 originals, which any rebuild of the index reads again).

Vectors are unit length on the way in, so the inner product is the cosine similarity.
All methods are synchronous and CPU-bound; the index decides which thread runs them.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from usearch.index import Index

F32 = np.float32


class Partition(Protocol):
    kind: str

    def __len__(self) -> int: ...
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, keys: list[int]) -> None: ...
    def search(
        self, query: np.ndarray, k: int, within: list[int] | None
    ) -> list[tuple[int, float]]: ...
    def items(self) -> tuple[np.ndarray, np.ndarray]: ...
    def key_list(self) -> list[int]: ...


class ExactPartition:
    """A growable matrix plus key -> row; search is one BLAS matrix-vector product."""

    kind = "exact"

    def __init__(self, dim: int, capacity: int = 8) -> None:
        self._keys = np.empty(capacity, np.int64)
        self._vectors = np.empty((capacity, dim), F32)
        self._size = 0
        self._row: dict[int, int] = {}

    @classmethod
    def from_arrays(cls, keys: np.ndarray, vectors: np.ndarray) -> ExactPartition:
        """Bulk load of distinct keys (a snapshot or a demoted graph), without a Python loop."""
        made = cls(vectors.shape[1], capacity=max(8, len(keys)))
        made._keys[: len(keys)] = keys
        made._vectors[: len(keys)] = vectors
        made._size = len(keys)
        made._row = {int(key): row for row, key in enumerate(keys.tolist())}
        return made

    def __len__(self) -> int:
        return self._size

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._reserve(self._size + len(keys))
        for key, vector in zip(keys.tolist(), vectors, strict=True):
            row = self._row.get(key)
            if row is None:
                row = self._size
                self._size += 1
                self._row[key] = row
                self._keys[row] = key
            self._vectors[row] = vector

    def remove(self, keys: list[int]) -> None:
        for key in keys:
            row = self._row.pop(key, None)
            if row is None:
                continue
            last = self._size - 1
            if row != last:  # move the last row into the hole
                moved = int(self._keys[last])
                self._keys[row] = moved
                self._vectors[row] = self._vectors[last]
                self._row[moved] = row
            self._size = last

    def search(
        self, query: np.ndarray, k: int, within: list[int] | None
    ) -> list[tuple[int, float]]:
        if within is None:
            keys, vectors = self._keys[: self._size], self._vectors[: self._size]
        else:
            rows = [self._row[key] for key in within if key in self._row]
            keys, vectors = self._keys[rows], self._vectors[rows]
        return top_k(keys, scores_of(vectors, query), k)

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        return self._keys[: self._size].copy(), self._vectors[: self._size].copy()

    def key_list(self) -> list[int]:
        keys: list[int] = self._keys[: self._size].tolist()
        return keys

    def _reserve(self, needed: int) -> None:
        if needed <= len(self._keys):
            return
        capacity = max(needed, 2 * len(self._keys))
        keys = np.empty(capacity, np.int64)
        vectors = np.empty((capacity, self._vectors.shape[1]), F32)
        keys[: self._size] = self._keys[: self._size]
        vectors[: self._size] = self._vectors[: self._size]
        self._keys, self._vectors = keys, vectors


GRAPH_DTYPE = "bf16"


class HnswPartition:
    """A private usearch HNSW graph (inner product on unit vectors = cosine).

    ``dtype`` is how the graph stores vectors: "bf16" by default, "f32" for full precision
    (the layout before bf16; the benchmark runs both side by side). A graph saved in
    either loads back in the dtype it was built with.
    """

    kind = "hnsw"

    def __init__(self, index: Index, expansion_search: int) -> None:
        self.index = index
        self.index.expansion_search = expansion_search  # type: ignore[misc]  # has a setter

    @classmethod
    def build(
        cls,
        dim: int,
        keys: np.ndarray,
        vectors: np.ndarray,
        *,
        connectivity: int,
        expansion_add: int,
        expansion_search: int,
        dtype: str = GRAPH_DTYPE,
    ) -> HnswPartition:
        index = Index(
            ndim=dim,
            metric="ip",
            dtype=dtype,
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )
        if len(keys):
            index.add(keys.astype(np.uint64), vectors, threads=0)
        return cls(index, expansion_search)

    def __len__(self) -> int:
        return len(self.index)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        # usearch refuses duplicate keys: replacing a vector is remove-then-add.
        present = [key for key in keys.tolist() if self.index.contains(key)]
        if present:
            self.index.remove(present)
        self.index.add(keys.astype(np.uint64), vectors, threads=0)

    def remove(self, keys: list[int]) -> None:
        present = [key for key in keys if self.index.contains(key)]
        if present:
            self.index.remove(present)

    def search(
        self, query: np.ndarray, k: int, within: list[int] | None
    ) -> list[tuple[int, float]]:
        if within is not None:  # a restricted search is exact over the listed vectors
            present = np.array([key for key in within if self.index.contains(key)], np.int64)
            if not len(present):
                return []
            vectors = np.asarray(self.index.get(present.astype(np.uint64), dtype="f32"))
            return top_k(present, scores_of(vectors, query), k)
        # threads=1: one query gains nothing from a thread pool but pays for waking it.
        matches = self.index.search(query, min(k, len(self.index)), threads=1)
        scores = 1.0 - matches.distances
        return list(zip(matches.keys.tolist(), scores.tolist(), strict=True))

    def key_list(self) -> list[int]:
        keys: list[int] = np.asarray(self.index.keys, dtype=np.int64).tolist()
        return keys

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.asarray(self.index.keys, dtype=np.int64)
        if not len(keys):
            return keys, np.empty((0, self.index.ndim), F32)
        return keys, np.asarray(self.index.get(keys.astype(np.uint64), dtype="f32"))


SCORE_CHUNK = 1024


def scores_of(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vectors @ query`` in blocks of rows: one big product makes OpenBLAS wake its thread
    pool, which on a busy server costs several times the arithmetic (measured: 5x at 3k
    rows on 2 cores); blocks stay on the calling thread."""
    if len(vectors) <= SCORE_CHUNK:
        small: np.ndarray = vectors @ query
        return small
    scores = np.empty(len(vectors), F32)
    for start in range(0, len(vectors), SCORE_CHUNK):
        np.dot(vectors[start : start + SCORE_CHUNK], query, out=scores[start : start + SCORE_CHUNK])
    return scores


def top_k(keys: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (key, score) pairs, best first; argpartition keeps it O(n)."""
    if k <= 0 or not len(keys):
        return []
    negated = -scores
    if len(keys) > k:
        best = np.argpartition(negated, k - 1)[:k]
        order = best[np.argsort(negated[best], kind="stable")]
    else:
        order = np.argsort(negated, kind="stable")
    # tolist() converts in C: one call instead of an int() and a float() per hit
    return list(zip(keys[order].tolist(), scores[order].tolist(), strict=True))


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit rows; all-zero rows stay zero (they match nothing rather than everything)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = (vectors / norms).astype(F32, copy=False)
    return unit
