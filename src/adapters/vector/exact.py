"""A small owner's vectors of one role: a float32 matrix, searched exactly.

The rows are also what an int8 graph (``adapters.vector.partitions``) re-scores from.

Every search answers ``(keys, scores)``: two plain lists, best first, built by
``tolist()`` in C, so a query creates no Python object per candidate (only the caller's
result objects, one per hit returned).

Vectors are unit length on the way in, so the inner product is the cosine similarity.
All methods are synchronous and CPU-bound; the index decides which thread runs them.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32
Hits = tuple[list[int], list[float]]
"""The keys and the scores of a search's hits, best first."""


class ExactPartition:
    """A growable matrix plus key -> row; search is one BLAS matrix-vector product.

    Rows stay contiguous: a removal moves the last row into the hole. A graph built over
    the rows (``partitions.RescoredGraph``) keys its nodes by row number and follows the move.
    """

    kind = "exact"

    def __init__(self, dim: int, capacity: int = 8) -> None:
        self._keys = np.empty(capacity, np.int64)
        self._vectors = np.empty((capacity, dim), F32)
        self._size = 0
        self._row: dict[int, int] = {}

    @classmethod
    def from_arrays(cls, keys: np.ndarray, vectors: np.ndarray) -> ExactPartition:
        """Bulk load of distinct keys (a snapshot or a demoted graph), rows in the given order."""
        made = cls(vectors.shape[1], capacity=max(8, len(keys)))
        made._keys[: len(keys)] = keys
        made._vectors[: len(keys)] = vectors
        made._size = len(keys)
        made._row = {int(key): row for row, key in enumerate(keys.tolist())}
        return made

    def __len__(self) -> int:
        return self._size

    @property
    def keys(self) -> np.ndarray:
        """Row number -> key (a view: valid until the next add)."""
        return self._keys[: self._size]

    @property
    def vectors(self) -> np.ndarray:
        """The rows (a view: valid until the next add)."""
        return self._vectors[: self._size]

    def keys_at(self, rows: np.ndarray) -> np.ndarray:
        """The keys of these rows (all below ``len(self)``)."""
        found: np.ndarray = self._keys[rows]
        return found

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of these rows (all below ``len(self)``), gathered into one matrix."""
        found: np.ndarray = self._vectors[rows]
        return found

    def row_of(self, key: int) -> int | None:
        return self._row.get(key)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.write(keys, vectors)

    def write(self, keys: np.ndarray, vectors: np.ndarray) -> list[int]:
        """Add or replace; the row of each key, in order."""
        self._reserve(self._size + len(keys))
        rows = []
        for key, vector in zip(keys.tolist(), vectors, strict=True):
            row = self._row.get(key)
            if row is None:
                row = self._size
                self._size += 1
                self._row[key] = row
                self._keys[row] = key
            self._vectors[row] = vector
            rows.append(row)
        return rows

    def remove(self, keys: list[int]) -> None:
        self.take_out(keys)

    def take_out(self, keys: list[int]) -> list[tuple[int, int]]:
        """Remove keys; for each removed one, in order, (its row, the row moved into it)."""
        moves = []
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
            moves.append((row, last))
        return moves

    def search(self, query: np.ndarray, k: int, within: list[int] | None) -> Hits:
        if within is None:
            return best_of(self._keys, scores_of(self._vectors[: self._size], query), k)
        rows = [row for key in within if (row := self._row.get(key)) is not None]
        return best_of(self._keys[rows], scores_of(self._vectors[rows], query), k)

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


SORT_ALL = 64
"""Up to this many scores, one full sort is cheaper than a partition and a sort of the k."""


def best_of(keys: np.ndarray, scores: np.ndarray, k: int) -> Hits:
    """The ``k`` best of ``scores`` (row ``i`` is ``keys[i]``; ``keys`` may be longer),
    best first; argpartition keeps it O(n) for long inputs."""
    n = len(scores)
    if k <= 0 or not n:
        return [], []
    if n <= SORT_ALL or n <= k:
        order = np.argsort(-scores, kind="stable")[:k]
    else:
        best = np.argpartition(scores, n - k)[n - k :]
        order = best[np.argsort(-scores[best], kind="stable")]
    # tolist() converts in C: one call instead of an int() and a float() per hit
    return keys[order].tolist(), scores[order].tolist()


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit rows; all-zero rows stay zero (they match nothing rather than everything)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = (vectors / norms).astype(F32, copy=False)
    return unit
