"""The index's file under PARLEY_DATA_DIR: one ``.npz``, written atomically.

Layout: ``meta`` (JSON: format, model, dim, partitions), ``exact_keys`` / ``exact_vectors``
/ ``exact_part`` (the float32 rows of every small partition and of every int8 graph, in
row order, with the partition number of each), and ``hnsw_<n>`` (each large partition's
usearch graph, serialised; an int8 graph's nodes are row numbers, its scale is in meta).
Format 1 (before int8 graphs) has no int8 graphs and still loads. It is written to a
temporary file, fsynced, then renamed over the old one, so a crash mid-save leaves the
previous copy; whatever the file misses, catch-up from the database adds.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import numpy as np
from usearch.index import Index

from adapters.vector.exact import F32, ExactPartition
from adapters.vector.partitions import HnswPartition, Partition, RescoredGraph

FORMAT = 2
READABLE = {1, FORMAT}
PartitionKey = tuple[UUID, str]


class SnapshotUnusable(Exception):
    """The file is missing, damaged, or belongs to another embedder or format."""


@dataclass
class Snapshot:
    model: str
    dim: int
    partitions: dict[PartitionKey, Partition] = field(default_factory=dict)


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    parts, exact_keys, exact_vectors, exact_part = [], [], [], []
    arrays: dict[str, np.ndarray] = {}
    for number, ((owner, role), partition) in enumerate(snapshot.partitions.items()):
        part: dict[str, str | float] = {"owner": str(owner), "role": role, "kind": partition.kind}
        parts.append(part)
        if isinstance(partition, HnswPartition):
            arrays[f"hnsw_{number}"] = np.frombuffer(bytes(partition.index.save() or b""), np.uint8)
        if isinstance(partition, RescoredGraph):
            part["scale"] = partition.scale
        if not isinstance(partition, HnswPartition) or isinstance(partition, RescoredGraph):
            keys, vectors = partition.items()
            exact_keys.append(keys)
            exact_vectors.append(vectors)
            exact_part.append(np.full(len(keys), number, np.int32))
    meta = {"format": FORMAT, "model": snapshot.model, "dim": snapshot.dim, "partitions": parts}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    arrays["exact_keys"] = np.concatenate(exact_keys) if exact_keys else np.empty(0, np.int64)
    arrays["exact_vectors"] = (
        np.concatenate(exact_vectors) if exact_vectors else np.empty((0, snapshot.dim), F32)
    )
    arrays["exact_part"] = np.concatenate(exact_part) if exact_part else np.empty(0, np.int32)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_snapshot(path: Path, *, model: str, dim: int, expansion_search: int) -> Snapshot:
    if not path.is_file():
        raise SnapshotUnusable("no saved index")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") not in READABLE:
                raise SnapshotUnusable(f"format {meta.get('format')} (expected {FORMAT})")
            if meta.get("model") != model or meta.get("dim") != dim:
                raise SnapshotUnusable(f"built by {meta.get('model')} ({meta.get('dim')} dims)")
            keys, vectors, part_of = data["exact_keys"], data["exact_vectors"], data["exact_part"]
            order = np.argsort(part_of, kind="stable")
            keys, vectors, part_of = keys[order], vectors[order], part_of[order]
            snapshot = Snapshot(model, dim)
            for number, part in enumerate(meta["partitions"]):
                key = (UUID(part["owner"]), str(part["role"]))
                start, end = np.searchsorted(part_of, [number, number + 1])
                rows = ExactPartition.from_arrays(keys[start:end], vectors[start:end])
                if part["kind"] != "hnsw":
                    snapshot.partitions[key] = rows
                    continue
                index = Index.restore(bytes(data[f"hnsw_{number}"]))
                if index is None or index.ndim != dim:
                    raise SnapshotUnusable(f"partition {number} is damaged")
                if "scale" not in part:
                    snapshot.partitions[key] = HnswPartition(index, expansion_search)
                elif len(index) != len(rows):
                    raise SnapshotUnusable(f"partition {number} is damaged")
                else:
                    scale = float(part["scale"])
                    snapshot.partitions[key] = RescoredGraph(rows, index, scale, expansion_search)
            return snapshot
    except SnapshotUnusable:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, RuntimeError) as exc:
        raise SnapshotUnusable(f"unreadable ({type(exc).__name__})") from exc
