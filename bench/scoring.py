"""Scorer throughput and label quality, side by side in one run.

1. Throughput per kind and per scorer (trajectories/s and steps/s, one process): the stored
   verifier verdict and the quality filters (``action_valid``, ``length``, ``repetition``,
   ``leak``, ``offscreen``), each beside a direct Python loop over the rows computing the
   same values (the baseline; the values are checked equal). Goal: >= 20,000 trajectories/s
   for the verifier and the quality filters. Rows: generated episodes copied up to ``--rows``.
2. Monte-Carlo process rewards: cost per labelled step (rollouts, env steps, seconds) per kind,
   on trajectories spread over the kind's families.
3. Agreement with the env's ``first_error_step`` on held-out episodes (another seed, noisy,
   reflective, expert and random tiers, plus corrupted copies): first-error accuracy on rows
   with an error and on clean rows, and ProcessBench's F1 (their harmonic mean), for the MC
   labels (first step whose hard label is 0) and the reference-guided labels.

    .venv/bin/python bench/scoring.py [--rows 20000] [--mc-rows 24] [--agree-rows 20] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.scorers import Scoring, score_batches  # noqa: E402
from filters.scorers.base import build_scorer  # noqa: E402
from filters.scorers.quality import PUNCTUATION, REASONING_ACTIONS, RESEARCH_ACTIONS  # noqa: E402
from stores.corpus import publish_corpus  # noqa: E402
from stores.schema import Provenance  # noqa: E402
from stores.store import Store  # noqa: E402
from synth.corrupt import corrupt_table  # noqa: E402
from synth.generate import ShardSpec, generate_shard  # noqa: E402
from synth.gui.actions import ACTIONS as GUI_ACTIONS  # noqa: E402
from synth.registry import get_family  # noqa: E402
from synth.research.world import Generated, WorldSpec  # noqa: E402

PROV = Provenance("bench", "0", "bench", "cfg", "run", datetime(2026, 1, 1, tzinfo=UTC))
TIERS = {"expert": 0.25, "reflective": 0.25, "noisy": 0.3, "random": 0.2}
FAMILIES = {"reasoning": ["maze", "sudoku", "hanoi"], "gui": ["form", "mail"], "research": ["multihop"]}


def generate(kind: str, seed: int, per_family: int, params: dict) -> pa.Table:
    parts = []
    for family in FAMILIES[kind]:
        tiers = {t: w for t, w in TIERS.items() if t in get_family(family).tiers}
        spec = ShardSpec(family, seed, 0, per_family, tiers, (1, 2), {**params.get(family, {}), "images": "off"})
        parts.append(generate_shard(spec, PROV).trajectories)
    return pa.concat_tables(parts)


# ---------------------------------------------------------------------------- python baselines


def _args(s):
    try:
        a = orjson.loads(s["action"]["arguments"])
    except orjson.JSONDecodeError:
        return None
    return a if isinstance(a, dict) else None


def py_verifier(rows):
    return [1.0 if r["outcome"]["success"] else 0.0 for r in rows]


def py_action_valid(rows):
    out = []
    for r in rows:
        if r["kind"] == "gui":
            space = GUI_ACTIONS
        elif r["kind"] == "research":
            space = RESEARCH_ACTIONS
        else:
            space = (*REASONING_ACTIONS, get_family(r["task"]["family"]).action)
        out.append(min([1.0 if s["action"]["name"] in space and _args(s) is not None else 0.0 for s in r["steps"]],
                       default=1.0))
    return out


def py_length(rows):
    return [1.0 if 1 <= len(r["steps"]) <= 512 and all(len(s["thought"] or "") <= 4000 for s in r["steps"]) else 0.0
            for r in rows]


def py_repetition(rows, n=3):
    out = []
    for r in rows:
        seen, total, again = set(), 0, 0
        for s in r["steps"]:
            words = [w for w in (t.strip(PUNCTUATION) for t in (s["thought"] or "").lower().split()) if w]
            for i in range(len(words) - n + 1):
                g = tuple(words[i:i + n])
                total += 1
                again += g in seen
                seen.add(g)
        out.append(again / total if total else 0.0)
    return out


def py_leak(rows, min_chars=3):
    out = []
    for r in rows:
        ref = orjson.loads(r["task"]["reference"])
        a = ref.get("answer") if isinstance(ref, dict) else None
        if not isinstance(a, str | int | float) or isinstance(a, bool) or len(str(a)) < min_chars:
            out.append(float("nan"))
            continue
        a = str(a).lower()
        seen = a in r["task"]["instruction"].lower() or a in ((r["initial_observation"] or {}).get("text") or "").lower()
        changes = [i for i, s in enumerate(r["steps"]) if s["action"]["name"] not in
                   ("think", "answer", "context.summarize", "finish")]
        last = changes[-1] if changes else -1
        leak = 0.0
        for i, s in enumerate(r["steps"]):
            if a in (s["thought"] or "").lower() and a not in (s["action"]["arguments"] or "").lower() and not seen \
                    and i <= last:
                leak = 1.0
            seen = seen or a in (s["observation"]["text"] or "").lower()
        out.append(leak)
    return out


def py_offscreen(rows):
    out = []
    for r in rows:
        w, h = orjson.loads(r["task"]["env"])["screen"]
        ok = 1.0
        for s in r["steps"]:
            a = _args(s) or {}
            x, y = a.get("x"), a.get("y")
            if isinstance(x, int | float) and isinstance(y, int | float):
                if a.get("unit") == "norm1000":
                    ok = min(ok, float(0 <= x <= 1000 and 0 <= y <= 1000))
                else:
                    ok = min(ok, float(0 <= x < w and 0 <= y < h))
        out.append(ok)
    return out


BASELINES: dict[str, Callable] = {"verifier": py_verifier, "action_valid": py_action_valid, "length": py_length,
                                  "repetition": py_repetition, "leak": py_leak, "offscreen": py_offscreen}


def throughput(tables: dict[str, pa.Table], rows: int) -> None:
    print(f"\n## 1. throughput, one process, {rows:,} trajectories per kind (batches of 2,000)\n")
    print("| kind | scorer | steps | trajforge traj/s | trajforge steps/s | python loop traj/s | speed-up | same values |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, base in tables.items():
        table = pa.concat_tables([base] * (-(-rows // base.num_rows))).slice(0, rows).combine_chunks()
        steps = int(sum(len(s) for s in table["steps"].to_pylist()))
        for name, baseline in BASELINES.items():
            if name == "offscreen" and kind != "gui":
                continue
            scorer = build_scorer({"name": name})
            cols = table.select(list(dict.fromkeys(scorer.columns)))
            t0 = time.perf_counter()
            values = np.concatenate([scorer.score(cols.slice(i, 2000)).scores[scorer.key()]
                                     for i in range(0, rows, 2000)])
            fast = time.perf_counter() - t0
            t0 = time.perf_counter()  # the baseline gets the same Arrow table: its rows' conversion is timed
            expected = np.array(baseline(table.to_pylist()), np.float32)
            slow = time.perf_counter() - t0
            same = np.allclose(values, expected, equal_nan=True, atol=1e-6)
            print(f"| {kind} | {name} | {steps:,} | {rows / fast:,.0f} | {steps / fast:,.0f} | {rows / slow:,.0f} | "
                  f"{slow / fast:.1f}x | {'yes' if same else 'NO'} |")


def mc_cost(tables: dict[str, pa.Table], n: int, params: dict, rollouts: int) -> None:
    print(f"\n## 2. Monte-Carlo cost ({rollouts} rollouts per step, epsilon 0.1, {n} trajectories per kind)\n")
    print("| kind | labelled steps | rollouts | env steps | seconds | ms per labelled step | env steps per labelled step |")
    print("|---|---|---|---|---|---|---|")
    for kind, table in tables.items():
        sample = table.take(np.linspace(0, table.num_rows - 1, min(n, table.num_rows)).astype(int))  # every family
        _, stats = score_batches(sample, Scoring([{"name": "mc", "params": {"rollouts": rollouts}}], 0, 10_000, params))
        c = stats["mc"]
        print(f"| {kind} | {c['labelled_steps']:.0f} | {c['rollouts']:.0f} | {c['env_steps']:.0f} | {c['seconds']:.1f} | "
              f"{1000 * c['seconds'] / c['labelled_steps']:.1f} | {c['env_steps'] / c['labelled_steps']:.0f} |")


def agreement(tables: dict[str, pa.Table], params: dict, rollouts: int) -> None:
    print("\n## 3. agreement with the env's first_error_step (held-out seed, with corrupted copies)\n")
    print("| kind | rows (with error / clean) | labels | exact first error | acc. erroneous | acc. clean | ProcessBench F1 |")
    print("|---|---|---|---|---|---|---|")
    entries = [{"name": "mc", "params": {"rollouts": rollouts}}, {"name": "reference"}]
    for kind, table in tables.items():
        corrupted, _, _ = corrupt_table(table, ["swap_adjacent", "drop_step"], 5, params)
        rows = pa.concat_tables([table, corrupted])
        scored, _ = score_batches(rows, Scoring(entries, 0, 10_000, params))
        data = scored.to_pylist()
        known = [r for r in data if r["first_error_step"] is not None]
        err = sum(r["first_error_step"] >= 0 for r in known)
        for label, first in (("mc (first hard 0)", _mc_first), ("reference", _ref_first)):
            hits = [(first(r) == r["first_error_step"], r["first_error_step"] >= 0) for r in known]
            a_err = np.mean([h for h, e in hits if e]) if err else float("nan")
            a_ok = np.mean([h for h, e in hits if not e]) if len(known) > err else float("nan")
            f1 = 2 * a_err * a_ok / (a_err + a_ok) if a_err + a_ok else 0.0
            print(f"| {kind} | {len(known)} ({err} / {len(known) - err}) | {label} | {np.mean([h for h, _ in hits]):.3f} | "
                  f"{a_err:.3f} | {a_ok:.3f} | {f1:.3f} |")


def _mc_first(r) -> int:
    hard = {e["name"]: e["values"] for e in r["step_scores"]}["mc.hard"]
    return next((i for i, v in enumerate(hard) if v == 0.0), -1)


def _ref_first(r) -> int:
    v = {e["name"]: e["value"] for e in r["scores"]}.get("reference.first_error")
    return -2 if v is None else int(v)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--mc-rows", type=int, default=24)
    ap.add_argument("--agree-rows", type=int, default=20, help="episodes per family for the agreement table")
    ap.add_argument("--rollouts", type=int, default=4)
    ap.add_argument("--skip-throughput", action="store_true", help="only the Monte-Carlo and agreement tables")
    args = ap.parse_args()
    store = Store(tempfile.mkdtemp(prefix="trajforge-bench-scoring-"))
    corpus = publish_corpus(store, "benchworld", Generated(WorldSpec(size=1500, seed=3)))
    params = {"multihop": {"corpus": {"ref": corpus.ref, "store": str(store.root)}}}
    t0 = time.perf_counter()
    base = {kind: generate(kind, 1, 100, params) for kind in FAMILIES}
    held = {kind: generate(kind, 2, args.agree_rows, params) for kind in FAMILIES}
    print(f"generated {sum(t.num_rows for t in base.values())} + {sum(t.num_rows for t in held.values())} "
          f"episodes in {time.perf_counter() - t0:.1f} s")
    if not args.skip_throughput:
        throughput(base, args.rows)
    mc_cost(held, args.mc_rows, params, args.rollouts)
    agreement(held, params, args.rollouts)


if __name__ == "__main__":
    main()
