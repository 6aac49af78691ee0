"""Research engine throughput: corpus build and index time (10k and 1M generated pages),
search queries per second on the largest corpus, episodes per second per tier on 10k.

Usage: python bench/research.py [--quick] [--sizes 10000,1000000] [--episodes 400] [--store DIR]

``--quick``: the 10k corpus only, 200 episodes per tier. Without it the 1,000,000-page corpus
is built too (about 7 GB of memory, a few minutes). Goals on the project machine: index 1M
pages in under 10 minutes, at least 500 queries/s on it, at least 100 expert episodes/s per
core on 10k. Every figure is one core unless it says otherwise (batched search uses threads).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stores import corpus as corpus_module  # noqa: E402
from stores.corpus import open_corpus, publish_corpus  # noqa: E402
from stores.schema import Provenance  # noqa: E402
from stores.store import Store  # noqa: E402
from synth.generate import ShardSpec, generate_shard  # noqa: E402
from synth.registry import get_family  # noqa: E402
from synth.research.facts import fact_base  # noqa: E402
from synth.research.questions import description_queries  # noqa: E402
from synth.research.world import Generated, WorldSpec  # noqa: E402

PROV = Provenance("", "", "bench", "bench", "bench", datetime.now(UTC))
TIERS = ("expert", "reflective", "noisy", "random")


def build(store: Store, size: int) -> tuple[str, dict]:
    """Publish a generated world; (ref, figures)."""
    t0 = time.perf_counter()
    info = publish_corpus(store, f"world{size}", Generated(WorldSpec(size=size, seed=0)))
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    corpus_module._OPEN.clear()
    open_corpus(store, info.ref)
    opened = time.perf_counter() - t1
    seconds = info.manifest["params"]["corpus"]["seconds"]
    disk = sum(f["bytes"] for t in info.manifest["tables"].values() for f in t["shards"])
    disk += sum(f["bytes"] for f in info.manifest["files"])
    return info.ref, {"size": size, "generate": seconds["documents"], "index": seconds["lexical_index"],
                      "total": total, "open": opened, "gb": disk / 1e9,
                      "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def search_rates(store: Store, ref: str, n: int = 3000) -> dict:
    """Queries/s of the raw BM25 index (no result cache): single queries and one batch."""
    corpus = open_corpus(store, ref)
    rng = random.Random(0)
    fb = fact_base(corpus)
    names = [fb.names[rng.randrange(fb.n)] for _ in range(n // 3)]
    described = [description_queries(fb, e)[0] for e in (rng.randrange(fb.n) for _ in range(n // 3))
                 if fb.kind_of(e) != "place" or fb.subtype[e] == "city"]
    mixed = [f"{rng.choice(names)} {w}" for w in rng.choices(("founded by", "born in", "award", "festival 1950"), k=n // 3)]
    queries = names + described + mixed
    corpus.lexical.search(queries[0], 10)  # compile/load the kernel
    t0 = time.perf_counter()
    for q in queries:
        corpus.lexical.search(q, 10)
    single = len(queries) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    corpus.lexical.search_many(queries, 10)
    batch = len(queries) / (time.perf_counter() - t0)
    first = sum(corpus.search(fb.names[e], 10)[0][0] == fb.page[e] for e in (rng.randrange(fb.n) for _ in range(500)))
    return {"queries": len(queries), "single": single, "batch": batch, "title_first": first / 500}


def episode_rates(store: Store, ref: str, episodes: int) -> list[tuple[str, float, float, float]]:
    """(tier, episodes/s on one core, mean steps, mean tool calls) over difficulties 1-5."""
    family = get_family("multihop")
    params, _ = family.prepare(store, {"corpus": {"ref": ref}})
    generate_shard(ShardSpec("multihop", 0, 0, 50, dict.fromkeys(TIERS, 1.0), (1, 2, 3, 4, 5), params), PROV)
    rows = []
    setups = [(t, {}) for t in TIERS] + [("expert, long tail 5% + context every 20",
                                          {"long_tail": {"rate": 0.05, "min_calls": 100}, "context": {"every": 20}})]
    for seed, (label, extra) in enumerate(setups, 1):  # a seed per row: no row reuses another's cached searches
        tier = label.split(",")[0]
        spec = ShardSpec("multihop", seed, 0, episodes, {tier: 1.0}, (1, 2, 3, 4, 5), {**params, **extra})
        t0 = time.perf_counter()
        table = generate_shard(spec, PROV).trajectories
        seconds = time.perf_counter() - t0
        steps = [len(s) for s in table["steps"].to_pylist()]
        calls = [sum(x["action"]["name"] in ("search", "open", "find") for x in s) for s in table["steps"].to_pylist()]
        rows.append((label, episodes / seconds, sum(steps) / len(steps), sum(calls) / len(calls)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k corpus only, 200 episodes per tier")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--episodes", type=int, default=400)
    parser.add_argument("--store", default=None, help="store folder to build into (default: a temporary one)")
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    episodes = 200 if args.quick else args.episodes
    root = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="trajforge-bench-research-"))
    store = Store(root)
    print(f"cores: {os.cpu_count()}; store: {root}")
    print("\n## corpus build and index (one process)\n")
    print("| pages | generate s | BM25 index s | publish total s | open s | on disk GB | peak RSS GB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    refs = {}
    for size in sizes:
        ref, f = build(store, size)
        refs[size] = ref
        print(f"| {size:,} | {f['generate']:.1f} | {f['index']:.1f} | {f['total']:.1f} | {f['open']:.1f} | "
              f"{f['gb']:.2f} | {f['rss_gb']:.1f} |")
    largest = max(refs)
    s = search_rates(store, refs[largest])
    print(f"\n## search on {largest:,} pages ({s['queries']} queries: names, descriptions, name + words)\n")
    print("| mode | queries/s |")
    print("|---|---:|")
    print(f"| one at a time, one thread | {s['single']:,.0f} |")
    print(f"| one batch (search_many, a thread per core) | {s['batch']:,.0f} |")
    print(f"\nexact titles ranked first: {s['title_first']:.1%}")
    base = min(refs)
    print(f"\n## episodes per second on {base:,} pages (one core, difficulties 1-5, {episodes} episodes each)\n")
    print("| tier | episodes/s | mean steps | mean tool calls |")
    print("|---|---:|---:|---:|")
    for label, rate, steps, calls in episode_rates(store, refs[base], episodes):
        print(f"| {label} | {rate:,.0f} | {steps:.1f} | {calls:.1f} |")
    if not args.store:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
