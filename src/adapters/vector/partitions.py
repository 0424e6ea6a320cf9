"""One owner's vectors of one role, searched exactly (small) or through usearch HNSW (large).

usearch has no filtered search from Python, and filtering a shared graph after the fact
loses recall for small owners (their few vectors are scattered among everybody's). So
every owner gets private storage: a contiguous float32 matrix scanned with one
matrix-vector product while small (``ExactPartition``: exact, recall 1.0), and a private
HNSW graph (inner product on unit vectors = cosine) once it outgrows that, in one of two
layouts chosen by the graph's dtype:

- ``bf16`` / ``f32`` (``HnswPartition``): the graph holds the vectors, keyed by message key,
  and its distances are the scores. bf16 halves the bytes each hop touches; its scores
  carry bf16's rounding (about 1e-3).
- ``i8`` (``RescoredGraph``): the walk runs over int8 copies, keyed by row number of a
  float32 ``ExactPartition`` kept beside the graph; the few candidates it returns are
  re-scored exactly from those rows (one gather and one product, no key lookup), so
  scores and final ranking are float32-exact while each hop reads a quarter of float32's
  bytes. The int8 copies use the graph's own scale (127 over the largest component
  it was built from), not usearch's fixed 127, which would leave unit vectors of a few
  hundred dimensions only a dozen levels per component.

Both call usearch's compiled ``search_many`` directly: the Python ``Index.search`` wrapper
builds batch and match objects that one query does not need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from usearch.index import Index

from adapters.vector.exact import F32, ExactPartition, Hits, best_of, normalise, scores_of

__all__ = [  # the exact partition's names are re-exported: callers import partitions only
    "F32",
    "GRAPH_DTYPE",
    "ExactPartition",
    "HnswPartition",
    "Partition",
    "RescoredGraph",
    "normalise",
]

GRAPH_DTYPE = "bf16"
U64 = np.uint64


class Partition(Protocol):
    kind: str

    def __len__(self) -> int: ...
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, keys: list[int]) -> None: ...
    def search(self, query: np.ndarray, k: int, within: list[int] | None) -> Hits: ...
    def items(self) -> tuple[np.ndarray, np.ndarray]: ...
    def key_list(self) -> list[int]: ...


def rescore_candidates(k: int) -> int:
    """How many candidates an int8 walk hands to the exact re-score for ``k`` hits."""
    return k + k // 2 + 1


def compiled_search(index: Index) -> Callable[..., tuple[Any, ...]]:
    """usearch's one-call search: (keys, distances, counts, ...) for a matrix of queries."""
    found: Callable[..., tuple[Any, ...]] = index._compiled.search_many
    return found


class HnswPartition:
    """A graph keyed by message key; ``dtype`` "bf16" (default) or "f32"."""

    kind = "hnsw"

    def __init__(self, index: Index, expansion_search: int) -> None:
        self.index = index
        self.index.expansion_search = expansion_search  # type: ignore[misc]  # has a setter
        self._search = compiled_search(index)

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
        if dtype == "i8":
            return RescoredGraph.build(
                dim,
                keys,
                vectors,
                connectivity=connectivity,
                expansion_add=expansion_add,
                expansion_search=expansion_search,
            )
        index = _new_index(dim, dtype, connectivity, expansion_add, expansion_search)
        if len(keys):
            index.add(keys.astype(U64), vectors, threads=0)
        return cls(index, expansion_search)

    def __len__(self) -> int:
        return len(self.index)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        # usearch refuses duplicate keys: replacing a vector is remove-then-add.
        present = [key for key in keys.tolist() if self.index.contains(key)]
        if present:
            self.index.remove(present)
        self.index.add(keys.astype(U64), vectors, threads=0)

    def remove(self, keys: list[int]) -> None:
        present = [key for key in keys if self.index.contains(key)]
        if present:
            self.index.remove(present)

    def search(self, query: np.ndarray, k: int, within: list[int] | None) -> Hits:
        if within is not None:  # a restricted search is exact over the listed vectors
            present = np.array([key for key in within if self.index.contains(key)], np.int64)
            if not len(present):
                return [], []
            vectors = np.asarray(self.index.get(present.astype(U64), dtype="f32"))
            return best_of(present, scores_of(vectors, query), k)
        # threads=1: one query gains nothing from a thread pool but pays for waking it.
        keys, distances, counts = self._search(query[None], count=k, exact=False, threads=1)[:3]
        found = int(counts[0])
        return keys[0, :found].tolist(), (1.0 - distances[0, :found]).tolist()

    def key_list(self) -> list[int]:
        keys: list[int] = np.asarray(self.index.keys, dtype=np.int64).tolist()
        return keys

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.asarray(self.index.keys, dtype=np.int64)
        if not len(keys):
            return keys, np.empty((0, self.index.ndim), F32)
        return keys, np.asarray(self.index.get(keys.astype(U64), dtype="f32"))


class RescoredGraph(HnswPartition):
    """An int8 graph over the row numbers of ``rows``, with an exact float32 re-score."""

    def __init__(
        self, rows: ExactPartition, index: Index, scale: float, expansion_search: int
    ) -> None:
        super().__init__(index, expansion_search)
        self.rows = rows
        self.scale = scale

    @classmethod
    def build(  # type: ignore[override]  # always int8: no dtype to choose
        cls,
        dim: int,
        keys: np.ndarray,
        vectors: np.ndarray,
        *,
        connectivity: int,
        expansion_add: int,
        expansion_search: int,
    ) -> RescoredGraph:
        largest = float(np.abs(vectors).max()) if len(vectors) else 0.0
        scale = 127.0 / largest if largest > 0 else 127.0
        index = _new_index(dim, "i8", connectivity, expansion_add, expansion_search)
        rows = ExactPartition.from_arrays(keys, vectors)
        if len(keys):
            index.add(np.arange(len(keys), dtype=U64), quantise(rows.vectors, scale), threads=0)
        return cls(rows, index, scale, expansion_search)

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        replaced = [row for key in keys.tolist() if (row := self.rows.row_of(key)) is not None]
        if replaced:
            self.index.remove(replaced)
        written = np.unique(np.array(self.rows.write(keys, vectors), dtype=U64))
        self.index.add(written, quantise(self.rows.vectors[written], self.scale), threads=0)

    def remove(self, keys: list[int]) -> None:
        for hole, last in self.rows.take_out(keys):
            self.index.remove(hole)
            if last != hole:  # the last row moved into the hole: its node follows
                self.index.rename(last, hole)

    def search(self, query: np.ndarray, k: int, within: list[int] | None) -> Hits:
        if within is not None:
            return self.rows.search(query, k, within)
        rows = self.rows
        walked = quantise(query[None], self.scale)
        found, _, counts = self._search(
            walked, count=rescore_candidates(k), exact=False, threads=1
        )[:3]
        candidates = found[0, : counts[0]]
        # rows.vectors/keys are views of the first len(rows) rows; candidates are below it
        return best_of(rows.keys_at(candidates), rows.vectors_at(candidates) @ query, k)

    def key_list(self) -> list[int]:
        return self.rows.key_list()

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        return self.rows.items()


def quantise(vectors: np.ndarray, scale: float) -> np.ndarray:
    """int8 copies at ``scale`` (rounded toward zero); components beyond its range saturate."""
    scaled = np.multiply(vectors, scale, dtype=F32)
    np.minimum(scaled, 127, out=scaled)  # two ufuncs: np.clip's Python wrapper costs more
    np.maximum(scaled, -127, out=scaled)
    quantised: np.ndarray = scaled.astype(np.int8)
    return quantised


def _new_index(
    dim: int, dtype: str, connectivity: int, expansion_add: int, expansion_search: int
) -> Index:
    return Index(
        ndim=dim,
        metric="ip",
        dtype=dtype,
        connectivity=connectivity,
        expansion_add=expansion_add,
        expansion_search=expansion_search,
    )
