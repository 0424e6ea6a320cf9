"""The VectorIndex adapter: per-owner partitions (exact or usearch HNSW), one file on disk.

Why per owner and role: results must only ever come from the caller's own vectors, and
usearch cannot filter a search from Python. A private partition per (owner, role) makes
isolation structural and keeps recall at 1.0 for small owners (exact scan); large ones get
a bf16 HNSW graph whose ``expansion_search`` trades recall for speed (the default reaches
recall@10 0.99 over ``bench/search.py``'s query mix, less on its very largest owner);
"similar prompts" searches just the owner's ``user`` partition.

Concurrency: searches are synchronous and run on the event loop thread. Writers hold one
asyncio lock; the only work moved to a thread is building a brand-new graph (nobody can
see it yet) and writing or reading the file, so a search never races a mutation.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import structlog

from adapters.vector.exact import F32, ExactPartition, Hits, normalise
from adapters.vector.partitions import GRAPH_DTYPE, HnswPartition, Partition, RescoredGraph
from adapters.vector.snapshot import (
    PartitionKey,
    Snapshot,
    SnapshotUnusable,
    read_snapshot,
    write_snapshot,
)
from application.ports.vector_index import (
    VectorIndex,
    VectorMatch,
    VectorRecord,
    VectorSizeMismatch,
)

log = structlog.get_logger("parley.search.index")

# Adds to an existing graph run on the loop thread in chunks this big, yielding in between.
ADD_CHUNK = 512
DEFAULT_EXACT_MAX = 1024
DEFAULT_CONNECTIVITY = 32
DEFAULT_EXPANSION_SEARCH = 96
SERVED_GRAPH_DTYPE = "i8"
"""The graphs the app builds: int8 walks with an exact float32 re-score, the fastest
measured at recall@10 0.99 (bench/search.py). The constructor's default stays bf16, the
layout before, which the index's own unit tests pin."""


class UsearchVectorIndex(VectorIndex):
    def __init__(
        self,
        *,
        model: str,
        dim: int,
        path: Path,
        exact_max: int = DEFAULT_EXACT_MAX,
        connectivity: int = DEFAULT_CONNECTIVITY,
        expansion_add: int = 128,
        expansion_search: int = DEFAULT_EXPANSION_SEARCH,
        graph_dtype: str = GRAPH_DTYPE,
    ) -> None:
        self.model = model
        self.dim = dim
        self.path = path
        self._exact_max = exact_max
        self._graph: dict[str, Any] = {
            "connectivity": connectivity,
            "expansion_add": expansion_add,
            "dtype": graph_dtype,
        }
        self._expansion_search = expansion_search
        self._shape = (dim,)
        self._parts: dict[UUID, dict[str, Partition]] = {}
        self._where: dict[int, PartitionKey] = {}
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._where)

    def keys(self, owner_id: UUID | None = None) -> set[int]:
        if owner_id is None:
            return set(self._where)
        return {key for part in self._parts.get(owner_id, {}).values() for key in part.key_list()}

    def set_expansion_search(self, expansion_search: int) -> None:
        """Change every graph's search breadth now and for graphs built later."""
        self._expansion_search = expansion_search
        for roles in self._parts.values():
            for partition in roles.values():
                if isinstance(partition, HnswPartition):
                    partition.index.expansion_search = expansion_search  # type: ignore[misc]

    def partition_kinds(self) -> dict[str, int]:
        """How many partitions of each kind (for health and the benchmark)."""
        counts: dict[str, int] = defaultdict(int)
        for roles in self._parts.values():
            for partition in roles.values():
                counts[partition.kind] += 1
        return dict(counts)

    def search(
        self,
        owner_id: UUID,
        query: Sequence[float],
        k: int,
        *,
        roles: Collection[str] | None = None,
        within: Collection[int] | None = None,
    ) -> list[VectorMatch]:
        vector = np.asarray(query, dtype=F32)
        if vector.shape != self._shape:
            raise VectorSizeMismatch(
                f"a {vector.size}-dimension query cannot search {self.dim}-dimension vectors"
            )
        owned = self._parts.get(owner_id)
        if not owned or k <= 0:
            return []
        squared = float(vector.dot(vector))
        if squared == 0.0:
            return []
        vector = vector * squared**-0.5  # not in place: the caller's array stays as it was
        allowed = None if within is None else list(within)
        if roles is None and len(owned) == 1:  # one partition already answers best first
            (partition,) = owned.values()
            keys, scores = partition.search(vector, k, allowed)
        else:
            keys, scores = _merged(
                [
                    p.search(vector, k, allowed)
                    for r, p in owned.items()
                    if roles is None or r in roles
                ],
                k,
            )
        return _matches(keys, scores)

    async def add(self, records: Sequence[VectorRecord]) -> None:
        if not records:
            return
        grouped = self._group(records)
        async with self._lock:
            # A key filed under another owner or role (never expected) is moved, not duplicated.
            moved = [r.key for r in records if self._where.get(r.key) not in (None, r.partition)]
            self._remove_now(moved)
            for part_key, (keys, vectors) in grouped.items():
                await self._add_to(part_key, keys, vectors)

    async def remove(self, keys: Collection[int]) -> None:
        async with self._lock:
            self._remove_now(keys)

    async def clear(self) -> None:
        async with self._lock:
            self._parts, self._where = {}, {}

    async def save(self) -> None:
        async with self._lock:
            snapshot = Snapshot(self.model, self.dim, self._flat())
            await asyncio.to_thread(write_snapshot, self.path, snapshot)
        log.info("vector_index_saved", vectors=len(self._where), path=str(self.path))

    async def load(self) -> bool:
        try:
            snapshot = await asyncio.to_thread(
                read_snapshot,
                self.path,
                model=self.model,
                dim=self.dim,
                expansion_search=self._expansion_search,
            )
        except SnapshotUnusable as exc:
            log.info("vector_index_not_loaded", reason=str(exc), path=str(self.path))
            return False
        rescored = self._graph["dtype"] == "i8"
        skipped = 0
        async with self._lock:
            self._parts, self._where = {}, {}
            for (owner, role), partition in snapshot.partitions.items():
                if isinstance(partition, HnswPartition) and (
                    isinstance(partition, RescoredGraph) != rescored
                ):
                    # a graph of the other layout (a file from before int8 graphs): left
                    # out, so catch-up re-adds its vectors from the table in this layout
                    skipped += len(partition)
                    continue
                self._parts.setdefault(owner, {})[role] = partition
                for key in partition.key_list():
                    self._where[key] = (owner, role)
        log.info("vector_index_loaded", vectors=len(self._where), left_to_catch_up=skipped)
        return True

    def _group(
        self, records: Sequence[VectorRecord]
    ) -> dict[PartitionKey, tuple[np.ndarray, np.ndarray]]:
        size = self.dim * 4
        rows: dict[PartitionKey, list[VectorRecord]] = defaultdict(list)
        for record in records:
            if len(record.vector) != size:
                raise VectorSizeMismatch(
                    f"vector of {len(record.vector) // 4} dimensions offered to a "
                    f"{self.dim}-dimension index ({self.model}); run `parley reindex`"
                )
            rows[record.partition].append(record)
        grouped = {}
        for part_key, items in rows.items():
            keys = np.fromiter((r.key for r in items), np.int64, len(items))
            raw = np.frombuffer(b"".join(r.vector for r in items), dtype="<f4")
            grouped[part_key] = (keys, normalise(raw.reshape(len(items), self.dim)))
        return grouped

    async def _add_to(self, part_key: PartitionKey, keys: np.ndarray, vectors: np.ndarray) -> None:
        owner, role = part_key
        current = self._parts.get(owner, {}).get(role)
        fresh = [k for k in keys.tolist() if k not in self._where]
        after = (len(current) if current else 0) + len(fresh)
        if isinstance(current, HnswPartition):
            for start in range(0, len(keys), ADD_CHUNK):
                current.add(keys[start : start + ADD_CHUNK], vectors[start : start + ADD_CHUNK])
                await asyncio.sleep(0)
        elif after <= self._exact_max:
            if current is None:
                current = self._parts.setdefault(owner, {})[role] = ExactPartition(self.dim)
            current.add(keys, vectors)
        else:  # outgrew exact search: build a private graph off the loop, then swap it in
            old_keys, old_vectors = current.items() if current else (keys[:0], vectors[:0])
            keep = ~np.isin(old_keys, keys)
            all_keys = np.concatenate([old_keys[keep], keys])
            all_vectors = np.concatenate([old_vectors[keep], vectors])
            graph = await asyncio.to_thread(
                HnswPartition.build,
                self.dim,
                all_keys,
                all_vectors,
                expansion_search=self._expansion_search,
                **self._graph,
            )
            self._parts.setdefault(owner, {})[role] = graph
        for key in keys.tolist():
            self._where[key] = part_key

    def _remove_now(self, keys: Collection[int]) -> None:
        by_part: dict[PartitionKey, list[int]] = defaultdict(list)
        for key in keys:
            part_key = self._where.pop(key, None)
            if part_key is not None:
                by_part[part_key].append(key)
        for (owner, role), part_keys in by_part.items():
            partition = self._parts[owner][role]
            partition.remove(part_keys)
            if not len(partition):
                del self._parts[owner][role]
                if not self._parts[owner]:
                    del self._parts[owner]
            elif isinstance(partition, HnswPartition) and len(partition) < self._exact_max // 2:
                # shrank well below the threshold (hysteresis): back to an exact scan
                self._parts[owner][role] = (
                    partition.rows
                    if isinstance(partition, RescoredGraph)
                    else ExactPartition.from_arrays(*partition.items())
                )

    def _flat(self) -> dict[PartitionKey, Partition]:
        return {(o, r): p for o, roles in self._parts.items() for r, p in roles.items()}


_new_match = object.__new__
_set_key = vars(VectorMatch)["key"].__set__  # the slots' descriptors
_set_score = vars(VectorMatch)["score"].__set__


def _matches(keys: list[int], scores: list[float]) -> list[VectorMatch]:
    """``[VectorMatch(key, score) ...]`` without the frozen dataclass's ``__init__``, which
    sets each field through ``object.__setattr__`` (twice the cost of the whole rest of a
    small owner's query in Python); the slots are set directly, the result is identical."""
    matches = []
    for key, score in zip(keys, scores, strict=True):
        match = _new_match(VectorMatch)
        _set_key(match, key)
        _set_score(match, score)
        matches.append(match)
    return matches


def _merged(found: list[Hits], k: int) -> Hits:
    """The ``k`` best of several partitions' hits, best first."""
    if len(found) == 1:
        return found[0]
    pairs = sorted(
        ((score, key) for keys, scores in found for key, score in zip(keys, scores, strict=True)),
        key=lambda pair: pair[0],
        reverse=True,
    )[:k]
    return [key for _, key in pairs], [score for score, _ in pairs]
