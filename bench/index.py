"""Vector search at scale: trajforge's auto-chosen, recall-tuned index beside exact flat search.

The vectors: real trajectory embeddings (hashing, 384-d, trajectory view) of generated
episodes of ten families serve as centres; every indexed row is a blend of two centres plus
noise (cosine 0.5-0.9 to the blend), normalised: a million rows that cluster the way runs of
one generator do (many similar episodes per family, no clean borders between them), without
generating and embedding a million episodes here. The queries are fresh rows of the same kind, not indexed,
so recall@10 is measured on held-out queries against exact search over the same rows.

Baseline: ``IndexFlatIP`` (exact). Printed: build seconds, batched queries per second,
recall@10, peak resident memory.

    .venv/bin/python bench/index.py [--rows 1000000] [--queries 5000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.retrieval import pool  # noqa: E402
from stores.derived import embed_table  # noqa: E402
from stores.embeddings import HashingEmbedder  # noqa: E402
from stores.vector_index import VectorIndex  # noqa: E402


def clustered(centres: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        # between two real embeddings (a blend, so cells have no clean borders), then noise
        mix = rng.uniform(0.0, 0.7, (m, 1)).astype(np.float32)
        base = centres[rng.integers(0, len(centres), m)] + mix * centres[rng.integers(0, len(centres), m)]
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        noise = rng.standard_normal((m, centres.shape[1])).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        cos = rng.uniform(0.5, 0.9, (m, 1)).astype(np.float32)
        x = cos * base + np.sqrt(1 - cos**2) * noise
        out[start:start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def recall(truth: np.ndarray, truth_sims: np.ndarray, found_sims: np.ndarray) -> float:
    """Share of the exact top 10 matched (a hit as similar as the exact 10th counts: ties)."""
    kth = truth_sims[:, -1:] - 1e-5
    return float(np.minimum((found_sims >= kth).sum(axis=1), truth.shape[1]).mean() / truth.shape[1])


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=5000)
    ap.add_argument("--flat-queries", type=int, default=1000)
    ap.add_argument("--nlist", type=int, default=0, help="IVF lists (0: trajforge's default, about sqrt(rows))")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    table = pool(300)
    _, centres = embed_table(table, "trajectory", HashingEmbedder(384))
    centres = centres[np.linalg.norm(centres, axis=1) > 0]
    t0 = time.perf_counter()
    x = clustered(centres, args.rows, rng)
    queries = clustered(centres, args.queries, rng)
    print(f"{args.rows} x 384 vectors around {len(centres)} real trajectory embeddings "
          f"({time.perf_counter() - t0:.1f} s to make), {args.queries} held-out queries, "
          f"{faiss.omp_get_max_threads()} threads")

    t0 = time.perf_counter()
    flat = faiss.IndexFlatIP(384)
    flat.add(x)
    flat_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    truth_sims, truth = flat.search(queries[: args.flat_queries], 10)
    flat_qps = args.flat_queries / (time.perf_counter() - t0)
    print(f"{'exact flat (baseline)':<28} build {flat_build:7.1f} s   {flat_qps:8.0f} queries/s   recall@10 1.000   "
          f"peak {peak_mb():.0f} MB")
    del flat

    t0 = time.perf_counter()
    ids = [str(i) for i in range(args.rows)]
    index = VectorIndex.build(x, ids, "bench", nlist=args.nlist or None)
    build = time.perf_counter() - t0
    meta = index.meta
    t0 = time.perf_counter()
    sims, _ = index.search(queries, 10)
    qps = args.queries / (time.perf_counter() - t0)
    measured = recall(truth, truth_sims, sims[: args.flat_queries])
    knob = (f"nlist {faiss.extract_index_ivf(index.index).nlist}, nprobe {meta.get('nprobe')}, "
            f"k_factor {meta.get('k_factor', '-')}" if meta["kind"] != "flat" else "exact")
    print(f"{'trajforge ' + meta['kind'] + ' (auto)':<28} build {build:7.1f} s   {qps:8.0f} queries/s   "
          f"recall@10 {measured:.3f}   peak {peak_mb():.0f} MB   ({knob}; recall at build "
          f"{meta.get('recall_at_10')})")
    print(f"speed-up over exact: {qps / flat_qps:.1f}x at recall@10 {measured:.3f}")


if __name__ == "__main__":
    main()
