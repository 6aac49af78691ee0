"""Dedup speed and quality, side by side in one run.

1. Quality on generated trajectories with planted duplicates (each method on its own kind:
   exact copies across two versions, copies with small edits to thoughts, the same task
   solved by two tiers): recall over the planted pairs and precision over all removals.
2. MinHash LSH at scale: trajforge (vectorised word n-gram hashing, rensa signatures, numpy
   banding, verified pairs) beside plain datasketch (``MinHash.bulk`` + ``MinHashLSH``
   insert and query, pairs verified by ``jaccard``) at equal settings (128 permutations,
   word 3-grams, threshold 0.7), on the same texts: recall/precision on the planted edited copies,
   seconds, and the speed-up. trajforge alone at the large size (datasketch would take
   most of an hour there). The texts: real trajectory texts (the ``trajectory`` view) of
   generated episodes, each row a variant with a fifth of its words replaced (so rows are
   distinct), and a planted copy with one word edit per hundred words (at least one) for
   every 20th row.
3. Semantic dedup (SemDeDup, FAISS k-means) of clustered 384-d vectors (bench/index.py's
   generator) at scale, and on a smaller size against exact all-pairs search (the baseline:
   every pair above the threshold), to show the pairs SemDeDup misses across clusters.

    .venv/bin/python bench/dedup.py [--rows 1000000] [--datasketch-rows 100000] [--vectors 1000000]
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.index import clustered  # noqa: E402
from bench.retrieval import pool  # noqa: E402
from filters.dedup import (  # noqa: E402
    exact_id_dedup,
    minhash_dedup,
    normalised_dedup,
    semantic_dedup,
)
from filters.minhash import MinHashSettings, similar_pairs  # noqa: E402
from stores.embeddings import HashingEmbedder  # noqa: E402
from stores.text_views import view_texts  # noqa: E402
from tests.generated import edited_copies, family_table  # noqa: E402

SETTINGS = MinHashSettings()  # trajforge's defaults: 128 permutations, word 3-grams, Jaccard 0.7
WORDS = [f"w{i}" for i in range(20_000)]
_WORD = re.compile(r"[a-z0-9]+")


def quality(removed: pa.Table, truth: dict[str, str]) -> tuple[float, float]:
    pairs = {frozenset(p) for p in truth.items()}
    found = [frozenset((r["removed_id"], r["kept_id"])) for r in removed.to_pylist()]
    recall = len(set(found) & pairs) / len(pairs) if pairs else 1.0
    precision = sum(f in pairs for f in found) / len(found) if found else 1.0
    return recall, precision


def planted_quality() -> None:
    print("1. quality on planted duplicates (generated trajectories, 10 families)")
    base = pool(60)
    table, truth = edited_copies(base, every=4, seed=3)
    # exact copies: the same rows in two versions, deduplicated together
    doubled = pa.concat_tables([base, base.slice(0, 150)])
    exact = exact_id_dedup(doubled, score_key="verifier")
    print(f"   {'exact (content id)':<34} copies 150   removed {exact.removed.num_rows:5}   "
          f"recall {min(exact.removed.num_rows, 150) / 150:.3f}   precision 1.000")
    for name, result in (("normalised hash", normalised_dedup(table)), ("minhash lsh (3-grams, J>=0.7)",
                                                                        minhash_dedup(table, settings=SETTINGS))):
        r, p = quality(result.removed, truth)
        print(f"   {name + ' on edited copies':<34} copies {len(truth):4}   removed {result.removed.num_rows:5}   "
              f"recall {r:.3f}   precision {p:.3f}")
    # the same task solved by two tiers: the task view, embedded, within a cosine threshold
    tiers = []
    for family in ("arithmetic", "lis", "game24", "topo_sort", "form"):
        tiers += [family_table(family, 40, 5, (("expert", 1.0),)), family_table(family, 40, 5, (("noisy", 1.0),))]
    both = pa.concat_tables(tiers)
    task_ids = [t["id"] for t in both["task"].to_pylist()]
    ids = both["id"].to_pylist()
    truth2 = {}
    first: dict[str, str] = {}
    for i, t in zip(ids, task_ids, strict=True):
        if t in first:
            truth2[i] = first[t]
        else:
            first[t] = i
    _, texts = view_texts(both, "task")
    vectors = HashingEmbedder(256).embed(texts)
    result = semantic_dedup(both, vectors, threshold=0.999, score_key="verifier")
    r, p = quality(result.removed, truth2)
    print(f"   {'semantic (task view, cos>=0.999)':<34} pairs  {len(truth2):4}   removed {result.removed.num_rows:5}   "
          f"recall {r:.3f}   precision {p:.3f}")


def variants(texts: list[str], n: int, seed: int) -> tuple[list[str], dict[int, int]]:
    """``n`` distinct variants of the texts and, for every 20th, an edited copy appended."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = texts[i % len(texts)].split()
        for j in rng.sample(range(len(words)), max(1, len(words) // 5)):
            words[j] = rng.choice(WORDS)
        out.append(" ".join(words))
    truth = {}
    for i in range(0, n, 20):
        words = out[i].split()
        for _ in range(max(1, len(words) // 100)):
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        truth[len(out)] = i
        out.append(" ".join(words))
    return out, truth


def pair_quality(pairs: set[tuple[int, int]], truth: dict[int, int]) -> tuple[float, float]:
    planted = {tuple(sorted(p)) for p in truth.items()}
    recall = len(pairs & planted) / len(planted)
    precision = len(pairs & planted) / len(pairs) if pairs else 1.0
    return recall, precision


def trajforge_pairs(texts: list[str]) -> set[tuple[int, int]]:
    pairs, _, _ = similar_pairs(texts, SETTINGS)
    return {(int(a), int(b)) for a, b in pairs}


def datasketch_pairs(texts: list[str]) -> set[tuple[int, int]]:
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        sys.exit("bench/dedup.py compares with datasketch: install the bench extra "
                 "(.venv/bin/pip install -e '.[bench]'), or pass --skip minhash")

    shingles = []
    for text in texts:
        words = _WORD.findall(text.lower())  # the words trajforge hashes, so both see the same n-grams
        n = SETTINGS.ngram
        grams = {" ".join(words[i:i + n]).encode() for i in range(max(1, len(words) - n + 1))}
        shingles.append(grams)
    sigs = MinHash.bulk(shingles, num_perm=SETTINGS.num_perm)
    lsh = MinHashLSH(threshold=SETTINGS.threshold, num_perm=SETTINGS.num_perm)
    with lsh.insertion_session() as session:
        for i, m in enumerate(sigs):
            session.insert(i, m)
    pairs = set()
    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            if j != i and m.jaccard(sigs[j]) >= SETTINGS.threshold:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def minhash_scale(rows: int, datasketch_rows: int) -> None:
    print("2. MinHash LSH: trajforge vs plain datasketch (128 perms, 3-grams, J>=0.7); texts: trajectory view")
    base = pool(100)
    _, texts = view_texts(base, "trajectory", 10_000)
    small, truth_small = variants(texts, datasketch_rows, 1)
    t0 = time.perf_counter()
    ours = trajforge_pairs(small)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = datasketch_pairs(small)
    theirs_s = time.perf_counter() - t0
    for name, pairs, seconds in (("trajforge", ours, ours_s), ("datasketch", theirs, theirs_s)):
        r, p = pair_quality(pairs, truth_small)
        print(f"   {name:<11} {len(small):>9} texts  {seconds:8.1f} s  {len(small) / seconds:9.0f} texts/s   "
              f"recall {r:.3f}  precision {p:.3f}")
    print(f"   speed-up: {theirs_s / ours_s:.1f}x at equal settings")
    del small, ours, theirs
    if rows > datasketch_rows:
        large, truth = variants(texts, rows, 2)
        t0 = time.perf_counter()
        ours = trajforge_pairs(large)
        seconds = time.perf_counter() - t0
        r, p = pair_quality(ours, truth)
        print(f"   {'trajforge':<11} {len(large):>9} texts  {seconds:8.1f} s  {len(large) / seconds:9.0f} texts/s   "
              f"recall {r:.3f}  precision {p:.3f}   peak {peak_mb():.0f} MB")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def semantic_scale(n: int, exact_n: int) -> None:
    print("3. semantic dedup (SemDeDup, cos>=0.95) of clustered 384-d vectors")
    from stores.derived import embed_table

    rng = np.random.default_rng(0)
    _, centres = embed_table(pool(300), "trajectory", HashingEmbedder(384))
    centres = centres[np.linalg.norm(centres, axis=1) > 0]
    small = with_copies(clustered(centres, exact_n, rng), rng)
    ids = pa.table({"id": [str(i) for i in range(len(small))]})
    t0 = time.perf_counter()
    result = semantic_dedup(ids, small, threshold=0.95, score_key=None)
    sem_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = faiss.IndexFlatIP(small.shape[1])
    index.add(small)
    lims, _, labels = index.range_search(small, 0.95)
    exact_s = time.perf_counter() - t0
    dup = set()
    for i in range(len(small)):
        for j in labels[lims[i]:lims[i + 1]]:
            if j < i:
                dup.add(i)  # i has an earlier row within the threshold
    removed = {int(r) for r in result.removed["removed_id"].to_pylist()}
    caught = len(removed & dup) / len(dup) if dup else 1.0
    print(f"   {len(small):>9} vectors  SemDeDup {sem_s:7.1f} s, removes {len(removed)}   exact all-pairs "
          f"(baseline) {exact_s:7.1f} s finds {len(dup)} rows with an earlier duplicate; SemDeDup catches "
          f"{caught:.3f} of them, precision {len(removed & dup) / max(1, len(removed)):.3f}")
    if n > exact_n:
        large = with_copies(clustered(centres, n, rng), rng)
        ids = pa.table({"id": [str(i) for i in range(len(large))]})
        t0 = time.perf_counter()
        result = semantic_dedup(ids, large, threshold=0.95, score_key=None)
        copies = {str(i) for i in range(n, len(large))}
        caught = len(copies & set(result.removed["removed_id"].to_pylist()))
        print(f"   {len(large):>9} vectors  SemDeDup {time.perf_counter() - t0:7.1f} s, removes "
              f"{result.removed.num_rows} ({caught / len(copies):.3f} of the {len(copies)} planted copies)   "
              f"(exact all-pairs extrapolated: {exact_s * (len(large) / len(small)) ** 2 / 60:.0f} min)   "
              f"peak {peak_mb():.0f} MB")


def with_copies(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` plus a near-copy (cosine 0.97) of every 10th row, appended."""
    nudge = rng.standard_normal(x[::10].shape).astype(np.float32)
    nudge /= np.linalg.norm(nudge, axis=1, keepdims=True)
    copies = 0.97 * x[::10] + np.sqrt(1 - 0.97**2) * nudge
    return np.concatenate([x, copies / np.linalg.norm(copies, axis=1, keepdims=True)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--datasketch-rows", type=int, default=100_000)
    ap.add_argument("--vectors", type=int, default=1_000_000)
    ap.add_argument("--exact-vectors", type=int, default=50_000)
    ap.add_argument("--skip", default="", help="comma list of parts to skip: quality,minhash,semantic")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    print(f"{faiss.omp_get_max_threads()} threads")
    if "quality" not in skip:
        planted_quality()
    if "minhash" not in skip:
        minhash_scale(args.rows, args.datasketch_rows)
    if "semantic" not in skip:
        semantic_scale(args.vectors, args.exact_vectors)


if __name__ == "__main__":
    main()
