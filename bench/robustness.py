"""Corruptions per second per operator, beside generating the same clean rows, in one run.

Clean rows per kind (reasoning: maze, sudoku, arithmetic; gui: form, mail; research:
multihop on a generated 1,500-document corpus), expert and noisy tiers, images off, scored
as the pipeline scores them; the baseline is the time their generation took (rows/s, one
process, scoring not included). Then every operator
corrupts every row of the kinds it edits (c = 0.5, eps = 0.3, one operator per table), timed
alone. Every figure is the fastest of ``--repeat`` runs. Replayed categories (action,
reasoning) rebuild the env and replay the episode; the others edit a copy. Last, the
adversarial mode's cost with M = 1, 4, 8 candidates ranked by the verifier scorer, and how the
env-backed scorers and quality filters respond to one operator per category (``--response-rows``
rows per kind): the drop of each score's mean against the clean sources and the recall of
"score < 0.5".

    .venv/bin/python bench/robustness.py [--rows 150] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.adversary import scorer_ranker  # noqa: E402
from filters.robustness import response_report  # noqa: E402
from filters.scorers import Scoring, score_table  # noqa: E402
from stores.corpus import publish_corpus  # noqa: E402
from stores.schema import Provenance  # noqa: E402
from stores.store import Store  # noqa: E402
from synth.corrupt import OPERATORS, OperatorSpec, corrupt_table  # noqa: E402
from synth.corrupt.grid import corrupt_cells, grid_cells  # noqa: E402
from synth.generate import ShardSpec, generate_shard  # noqa: E402
from synth.research.world import Generated, WorldSpec  # noqa: E402

FAMILIES = {"reasoning": ("maze", "sudoku", "arithmetic"), "gui": ("form", "mail"), "research": ("multihop",)}
T = TypeVar("T")
PROV = Provenance("bench", "0", "bench", "bench", "bench", datetime(2026, 1, 1, tzinfo=UTC))


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """The fastest of ``repeat`` runs (seconds) and its result: the machine is shared."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=150, help="clean rows per kind")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per figure, the fastest kept")
    ap.add_argument("--response-rows", type=int, default=60, help="clean rows per kind in the scorer-response table")
    args = ap.parse_args()
    store = Store(tempfile.mkdtemp(prefix="bench-robustness-"))
    corpus = publish_corpus(store, "benchworld", Generated(WorldSpec(size=1500, seed=3)))
    params = {f: {"images": "off"} for fams in FAMILIES.values() for f in fams}
    params["multihop"] = {"corpus": {"ref": corpus.ref, "store": str(store.root)}}

    clean, generate_rate = {}, {}
    for kind, fams in FAMILIES.items():
        n = args.rows // len(fams)
        seconds, table = best_of(args.repeat, lambda fams=fams, n=n: pa.concat_tables([generate_shard(
            ShardSpec(f, 1, 0, n, {"expert": 0.7, "noisy": 0.3}, (1, 2, 3), params[f]), PROV).trajectories for f in fams]))
        clean[kind] = score_table(table)  # the pipeline corrupts scored rows (score_random needs scores)
        generate_rate[kind] = table.num_rows / seconds
    steps = {k: sum(len(s) for s in t["steps"].to_pylist()) / t.num_rows for k, t in clean.items()}
    print("| kind | clean rows | steps/row | generate rows/s |")
    print("|---|---|---|---|")
    for kind, table in clean.items():
        print(f"| {kind} | {table.num_rows} | {steps[kind]:.1f} | {generate_rate[kind]:,.0f} |")

    print("\n| category | operator | kind | corrupted / skipped | corrupt rows/s | x generation |")
    print("|---|---|---|---|---|---|")
    for name, op in sorted(OPERATORS.items(), key=lambda kv: (kv[1].category, kv[0])):
        for kind in FAMILIES:
            if kind not in op.kinds:
                continue
            seconds, (rows, _, stats) = best_of(
                args.repeat, lambda name=name, kind=kind: corrupt_table(clean[kind], [OperatorSpec(name, 0.5, 0.3)], 1, params))
            rate = clean[kind].num_rows / seconds
            print(f"| {op.category} | `{name}` | {kind} | {rows.num_rows} / "
                  f"{stats.skipped[name] + stats.not_drawn[name]} | {rate:,.0f} | {rate / generate_rate[kind]:.1f} |")

    print("\n| adversarial (scorer verifier) | kind | M | rows/s | x M=1 | ms per row |")
    print("|---|---|---|---|---|---|")
    for name in ("wrong_argument", "obs_noise"):
        for kind in FAMILIES:
            base = None
            for m in (1, 4, 8):
                spec = OperatorSpec(name, 0.5, 0.3, "adversarial", scorer="verifier", candidates=m)
                rank = scorer_ranker([spec])
                seconds, _ = best_of(args.repeat, lambda spec=spec, rank=rank, kind=kind: corrupt_table(
                    clean[kind], [spec], 1, params, rank))
                rate = clean[kind].num_rows / seconds
                base = base or rate
                print(f"| `{name}` | {kind} | {m} | {rate:,.0f} | {rate / base:.2f} | {1000 / rate:.1f} |")


    response(clean, params, args.response_rows)


#: one operator per category (truncate_trace for reasoning: it edits every kind)
RESPONSE_CELLS = ("obs_noise", "wrong_argument", "reward_random", "stale_observation", "truncate_trace")
RESPONSE_SCORES = ("verifier", "reverify", "action_valid", "repetition", "length")


def response(clean: dict[str, pa.Table], params: dict, rows: int) -> None:
    """How the env-backed scorers and the quality filters respond, per kind and operator:
    drop of the mean against the clean sources / recall of "score < 0.5"."""
    scoring = Scoring([{"name": n} for n in RESPONSE_SCORES], 0, 2000, params)
    cells = grid_cells({"operators": list(RESPONSE_CELLS), "c": [0.5], "eps": [0.3]})
    print(f"\n| kind | operator | {' | '.join(RESPONSE_SCORES)} |")
    print("|---|---|" + "---|" * len(RESPONSE_SCORES))
    for kind, table in clean.items():
        sample = table.slice(0, rows)
        report = response_report(sample, corrupt_cells(sample, cells, 1, params), scoring)
        for cell in cells:
            got = {r["score"]: r for r in report if r["cell"] == cell.split and r["level"] == "trajectory"}
            figures = [f"{got[n]['drop']:+.2f} / {got[n]['recall']:.2f}" for n in RESPONSE_SCORES]
            print(f"| {kind} | `{cell.spec.name}` | {' | '.join(figures)} |")


if __name__ == "__main__":
    main()
