"""P5: owner-restricted vector search, Parley's index adapter vs hnswlib (and faiss).

    .venv/bin/python bench/search.py [--vectors 100000] [--owners 1000] [--queries 1000]

Data: clustered synthetic unit vectors (384 dims). Owners have Zipf-like sizes (the
biggest has ~13% of all vectors, hundreds have a handful), each owner's vectors come from
a few topics of their own. Queries: an owner picked in proportion to their size (active
users have more data), a fresh point near one of their topics. Every system must return
only that owner's vectors; recall@10 is measured against exact search in the owner.

Systems, side by side in one run (one thread for search everywhere):
- parley: ``adapters.vector.UsearchVectorIndex`` through its public methods (exact scan
  up to ``exact_max`` vectors per owner, a private usearch HNSW graph above).
- hnswlib per owner: one hnswlib graph per owner, ef tuned to reach recall 0.99.
- hnswlib global + filter: one graph, ``filter=`` keeps the owner's labels, ef tuned.
- faiss global HNSW + IDSelector (filtered search), and faiss exact per owner.
hnswlib and faiss are not Parley dependencies: install them into the venv to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from adapters.vector.usearch_index import UsearchVectorIndex
from application.ports.vector_index import VectorRecord

DIM = 384
K = 10
TARGET_RECALL = 0.99
EF_STEPS = (16, 32, 64, 128, 256, 512, 1024)


@dataclass
class Data:
    vectors: np.ndarray  # (n, dim) float32, unit rows
    owner_of: np.ndarray  # (n,) owner number
    rows_of: list[np.ndarray]  # owner number -> row numbers
    queries: np.ndarray
    query_owner: np.ndarray
    truth: list[np.ndarray]  # per query: exact top-k row numbers within the owner


@dataclass
class Result:
    system: str
    params: str
    build_s: float
    memory_mb: float
    p50_us: float
    p99_us: float
    qps: float
    recall: float


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def make_data(n: int, owners: int, queries: int, seed: int = 7) -> Data:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, owners + 1) ** 1.0  # Zipf, s = 1
    sizes = np.maximum(1, np.floor(weights / weights.sum() * n)).astype(int)
    sizes[0] += n - sizes.sum()
    centers = unit(rng.normal(size=(2000, DIM)))
    owner_of = np.repeat(np.arange(owners), sizes)
    topics = [
        rng.choice(len(centers), size=rng.integers(2, 9), replace=False) for _ in range(owners)
    ]
    vectors = np.empty((n, DIM), np.float32)
    for owner in range(owners):
        rows = np.flatnonzero(owner_of == owner)
        picked = centers[rng.choice(topics[owner], size=len(rows))]
        vectors[rows] = unit(picked + rng.normal(scale=0.06, size=(len(rows), DIM)))
    rows_of = [np.flatnonzero(owner_of == o) for o in range(owners)]
    query_owner = owner_of[rng.integers(0, n, size=queries)]
    query_centers = centers[[rng.choice(topics[o]) for o in query_owner]]
    query_vectors = unit(query_centers + rng.normal(scale=0.06, size=(queries, DIM)))
    truth = []
    for q, o in zip(query_vectors, query_owner, strict=True):
        rows = rows_of[o]
        scores = vectors[rows] @ q
        truth.append(rows[np.argsort(-scores)[:K]])
    return Data(vectors, owner_of, rows_of, query_vectors, query_owner, truth)


def measure(
    data: Data, search: Callable[[np.ndarray, int], np.ndarray]
) -> tuple[float, float, float, float]:
    """(p50 µs, p99 µs, queries/s, recall@10); ``search(query, owner)`` returns row numbers."""
    for q, o in zip(data.queries[:20], data.query_owner[:20], strict=True):
        search(q, int(o))  # warm up
    latencies, hits, wanted = [], 0, 0
    started = time.perf_counter()
    for q, o, truth in zip(data.queries, data.query_owner, data.truth, strict=True):
        t0 = time.perf_counter()
        found = search(q, int(o))
        latencies.append(time.perf_counter() - t0)
        hits += len(set(found.tolist()) & set(truth.tolist()))
        wanted += len(truth)
    elapsed = time.perf_counter() - started
    us = np.array(latencies) * 1e6
    return (
        float(np.percentile(us, 50)),
        float(np.percentile(us, 99)),
        len(us) / elapsed,
        hits / wanted,
    )


def bench_parley(data: Data, exact_max: int, expansion_search: int) -> Result:
    gc.collect()
    before = rss_mb()
    owner_ids = [uuid.UUID(int=o + 1) for o in range(len(data.rows_of))]
    index = UsearchVectorIndex(
        model="bench",
        dim=DIM,
        path=Path("/tmp/parley-bench-index.npz"),
        exact_max=exact_max,
        expansion_search=expansion_search,
    )
    records = [
        VectorRecord(row + 1, owner_ids[int(owner)], "user", data.vectors[row].tobytes())
        for row, owner in enumerate(data.owner_of)
    ]
    started = time.perf_counter()

    async def build() -> None:
        for start in range(0, len(records), 5000):
            await index.add(records[start : start + 5000])

    asyncio.run(build())
    build_s = time.perf_counter() - started
    records.clear()
    gc.collect()
    memory = rss_mb() - before

    def search(query: np.ndarray, owner: int) -> np.ndarray:
        matches = index.search(owner_ids[owner], query, K)
        return np.fromiter((m.key - 1 for m in matches), np.int64)

    p50, p99, qps, recall = measure(data, search)
    kinds = index.partition_kinds()
    params = f"exact_max={exact_max} ef={expansion_search} ({kinds.get('hnsw', 0)} graphs)"
    return Result("parley (usearch)", params, build_s, memory, p50, p99, qps, recall)


def tuned(
    data: Data, set_ef: Callable[[int], None], search: Callable[[np.ndarray, int], np.ndarray]
):
    """Smallest ef reaching the target recall (or the largest tried)."""
    for ef in EF_STEPS:
        set_ef(ef)
        p50, p99, qps, recall = measure(data, search)
        if recall >= TARGET_RECALL:
            break
    return ef, p50, p99, qps, recall


def bench_hnswlib_per_owner(data: Data) -> Result:
    import hnswlib

    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    graphs = []
    for rows in data.rows_of:
        graph = hnswlib.Index(space="ip", dim=DIM)
        graph.init_index(max_elements=len(rows), M=16, ef_construction=128)
        graph.set_num_threads(2)
        graph.add_items(data.vectors[rows], rows)
        graph.set_num_threads(1)
        graphs.append(graph)
    build_s = time.perf_counter() - started
    memory = rss_mb() - before

    def set_ef(ef: int) -> None:
        for graph in graphs:
            graph.set_ef(ef)

    def search(query: np.ndarray, owner: int) -> np.ndarray:
        graph = graphs[owner]
        labels, _ = graph.knn_query(query, k=min(K, graph.get_current_count()))
        return labels[0].astype(np.int64)

    ef, p50, p99, qps, recall = tuned(data, set_ef, search)
    return Result("hnswlib per owner", f"M=16 ef={ef}", build_s, memory, p50, p99, qps, recall)


def bench_hnswlib_filtered(data: Data) -> Result:
    import hnswlib

    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    graph = hnswlib.Index(space="ip", dim=DIM)
    graph.init_index(max_elements=len(data.vectors), M=16, ef_construction=128)
    graph.set_num_threads(2)
    graph.add_items(data.vectors, np.arange(len(data.vectors)))
    graph.set_num_threads(1)
    build_s = time.perf_counter() - started
    memory = rss_mb() - before
    owner_of = data.owner_of

    def search(query: np.ndarray, owner: int) -> np.ndarray:
        size = len(data.rows_of[owner])
        labels, _ = graph.knn_query(
            query, k=min(K, size), filter=lambda label: owner_of[label] == owner
        )
        return labels[0].astype(np.int64)

    ef, p50, p99, qps, recall = tuned(data, graph.set_ef, search)
    return Result("hnswlib global+filter", f"M=16 ef={ef}", build_s, memory, p50, p99, qps, recall)


def bench_faiss(data: Data) -> list[Result]:
    import faiss

    faiss.omp_set_num_threads(1)
    results = []
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    flats = []
    for rows in data.rows_of:
        flat = faiss.IndexFlatIP(DIM)
        flat.add(data.vectors[rows])
        flats.append((flat, rows))
    build_s = time.perf_counter() - started
    memory = rss_mb() - before

    def exact(query: np.ndarray, owner: int) -> np.ndarray:
        flat, rows = flats[owner]
        _, found = flat.search(query[None, :], min(K, len(rows)))
        return rows[found[0]]

    p50, p99, qps, recall = measure(data, exact)
    results.append(
        Result("faiss exact per owner", "IndexFlatIP", build_s, memory, p50, p99, qps, recall)
    )
    flats.clear()

    gc.collect()
    before = rss_mb()
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 128
    hnsw.add(data.vectors)
    build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    memory = rss_mb() - before
    selectors = [faiss.IDSelectorBatch(rows.astype(np.int64)) for rows in data.rows_of]
    params = faiss.SearchParametersHNSW()

    def set_ef(ef: int) -> None:
        params.efSearch = ef

    def filtered(query: np.ndarray, owner: int) -> np.ndarray:
        params.sel = selectors[owner]
        _, found = hnsw.search(query[None, :], min(K, len(data.rows_of[owner])), params=params)
        return found[0][found[0] >= 0]

    ef, p50, p99, qps, recall = tuned(data, set_ef, filtered)
    results.append(
        Result("faiss global+IDSelector", f"M=16 ef={ef}", build_s, memory, p50, p99, qps, recall)
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--parley",
        type=lambda text: tuple(int(x) for x in text.split(":")),
        nargs="*",
        default=[(1024, 64), (1024, 128), (4096, 64), (0, 64)],
        help="exact_max:expansion_search settings of the Parley adapter to run",
    )
    parser.add_argument("--skip", nargs="*", default=[], help="hnswlib-filter, faiss, ...")
    args = parser.parse_args()
    started = time.perf_counter()
    data = make_data(args.vectors, args.owners, args.queries)
    sizes = sorted((len(r) for r in data.rows_of), reverse=True)
    print(
        f"{args.vectors} x {DIM} vectors, {args.owners} owners (largest {sizes[:3]}, "
        f"median {sizes[len(sizes) // 2]}), {args.queries} queries, k={K}; "
        f"data ready in {time.perf_counter() - started:.1f}s",
        flush=True,
    )
    results = [
        bench_parley(data, exact_max=exact_max, expansion_search=ef)
        for exact_max, ef in args.parley
    ]
    try:
        results.append(bench_hnswlib_per_owner(data))
        if "hnswlib-filter" not in args.skip:
            results.append(bench_hnswlib_filtered(data))
    except ImportError:
        print("hnswlib not installed: skipped", file=sys.stderr)
    if "faiss" not in args.skip:
        try:
            results.extend(bench_faiss(data))
        except ImportError:
            print("faiss-cpu not installed: skipped", file=sys.stderr)
    header = (
        f"{'system':<24} {'params':<40} {'build s':>8} {'mem MB':>7} "
        f"{'p50 µs':>8} {'p99 µs':>8} {'q/s':>8} {'recall':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.system:<24} {r.params:<40} {r.build_s:>8.1f} {r.memory_mb:>7.0f} "
            f"{r.p50_us:>8.0f} {r.p99_us:>8.0f} {r.qps:>8.0f} {r.recall:>7.4f}"
        )


if __name__ == "__main__":
    main()
