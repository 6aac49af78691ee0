"""Retrieval quality on generated data: precision@k of same-family and same-template
retrieval, per embedder and text view, how it moves with a similarity threshold, and the
behaviour-retrieval use (a few examples of one family against a pool of ten families).

A row's template is its family and difficulty level (tasks of one level share the generator's
template and size). Every row queries the pool (itself left out); precision@k is the share of
its k nearest that share its family (or template). Exact search (flat inner product), so the
figures measure the embeddings, not an index. Baseline: hashing, the fast default.

    .venv/bin/python bench/retrieval.py [--per-family 60] [--k 10] [--embedders hashing,minilm]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stores.derived import embed_table  # noqa: E402
from stores.embeddings import make_embedder  # noqa: E402
from tests.generated import family_table  # noqa: E402

FAMILIES = ("arithmetic", "maze", "lis", "game24", "topo_sort", "hanoi", "shortest_path", "form", "todo", "mail")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def pool(per_family: int) -> pa.Table:
    tiers = (("expert", 0.6), ("noisy", 0.4))
    return pa.concat_tables([family_table(f, per_family, 11, tiers) for f in FAMILIES])


def neighbours(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    sims, rows = index.search(vectors, k + 1)
    keep = rows != np.arange(len(rows))[:, None]  # leave each query out of its own list
    out_s = np.array([s[m][:k] for s, m in zip(sims, keep, strict=True)])
    out_r = np.array([r[m][:k] for r, m in zip(rows, keep, strict=True)])
    return out_s, out_r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-family", type=int, default=60)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--embedders", default="hashing,minilm")
    ap.add_argument("--views", default="task,trajectory")
    args = ap.parse_args()
    if args.per_family < 6:
        ap.error("--per-family must be at least 6: behaviour retrieval takes 5 examples per family")
    table = pool(args.per_family)
    family = np.array(pc.struct_field(table["task"], "family").to_pylist(), dtype=object)
    level = np.array(pc.struct_field(table["task"], "difficulty").to_pylist())
    template = np.array([f"{f}/{d}" for f, d in zip(family, level, strict=True)], dtype=object)
    print(f"pool: {table.num_rows} trajectories, {len(FAMILIES)} families x {args.per_family}, k={args.k}")
    print(f"{'embedder':<34} {'view':<11} {'p@k family':>10} {'p@k templ':>10} {'texts/s':>9}   "
          + "  ".join(f"t>={t:.1f}: p / kept" for t in THRESHOLDS[:1]) + " ...")
    rng = np.random.default_rng(0)
    for spec in args.embedders.split(","):
        embedder = make_embedder(spec)
        for view in args.views.split(","):
            t0 = time.perf_counter()
            _, vectors = embed_table(table, view, embedder)
            rate = table.num_rows / (time.perf_counter() - t0)
            sims, rows = neighbours(vectors, args.k)
            same_family = family[rows] == family[:, None]
            same_template = template[rows] == template[:, None]
            curve = []
            for t in THRESHOLDS:
                kept = sims >= t
                precision = same_family[kept].mean() if kept.any() else float("nan")
                curve.append(f"{t:.1f}: {precision:.3f}/{kept.mean():.2f}")
            print(f"{embedder.id:<34} {view:<11} {same_family.mean():>10.3f} {same_template.mean():>10.3f} "
                  f"{rate:>9.0f}   " + "  ".join(curve))
            # behaviour retrieval: 5 examples of one family, the 50 most similar rows of the pool
            # (fewer when a family has fewer other members: precision must be able to reach 1)
            scores = []
            depth = min(50, args.per_family - 5)
            for target in FAMILIES:
                members = np.flatnonzero(family == target)
                examples = rng.choice(members, 5, replace=False)
                best = (vectors @ vectors[examples].T).max(axis=1)
                best[examples] = -np.inf
                top = np.argsort(-best)[:depth]
                scores.append((family[top] == target).mean())
            print(f"{'':<34} {'':<11} behaviour retrieval, 5 examples -> top {depth}: precision "
                  f"{np.mean(scores):.3f} (worst family {min(scores):.3f})")


if __name__ == "__main__":
    main()
