"""Excerpts of one reflective trace per reasoning family, in Markdown, for docs/reasoning.md:
the first of 12 episodes (seed 7, difficulty 3, tier reflective) with a mistake, from the step
before the mistake to the backtrack that undoes it, the middle of long stretches elided.

The before/after section of docs/reasoning.md is this script's output on two commits, so a
reader can regenerate either side.

Usage: python bench/excerpts.py [--seed 7] [--difficulty 3] [--tier reflective] [FAMILY ...]
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from stores.schema import Provenance, Trajectory, from_table
from synth.generate import ShardSpec, generate_shard
from synth.reasoning.levels import reasoning_families

PROV = Provenance("", "", "bench", "bench", "bench", datetime(2026, 1, 1, tzinfo=UTC))
EPISODES = 12
KEEP = 4  # steps kept at each end of a long stretch
ARGS_WIDTH = 64


def window(t: Trajectory) -> list[int | None]:
    """Step indexes from the one before the first error to the first backtrack after it;
    ``None`` marks an elided stretch."""
    start = max(0, t.first_error_step - 1)
    stop = next((s.index for s in t.steps[t.first_error_step:] if s.action.name == "backtrack"), len(t.steps) - 1)
    shown = list(range(start, stop + 1))
    if len(shown) > 2 * KEEP + 1:
        return [*shown[:KEEP], None, *shown[-KEEP:]]
    return shown


def step_line(t: Trajectory, i: int) -> str:
    s = t.steps[i]
    args = json.dumps(s.action.arguments, sort_keys=True, ensure_ascii=False)
    if len(args) > ARGS_WIDTH:
        args = args[: ARGS_WIDTH - 1] + "…"
    return f"- step {i} `{s.action.name} {args}`: {s.thought}  \n  observation: {s.observation.text}"


def excerpt(family: str, seed: int, difficulty: int, tier: str) -> str:
    shard = generate_shard(ShardSpec(family, seed, 0, EPISODES, {tier: 1.0}, (difficulty,), {"images": "off"}), PROV)
    found = next((t for t in from_table(shard.trajectories) if t.first_error_step >= 0), None)
    head = f"##### {family} (d{difficulty}, {tier}"
    if found is None:
        return f"{head})\n\nNo episode with a mistake among the first {EPISODES}.\n"
    kind = found.policy.params.get("mistake_kind")
    lines = [f"{head}, first_error_step {found.first_error_step}{', ' + kind if kind else ''})", ""]
    for i in window(found):
        lines.append("- …" if i is None else step_line(found, i))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("families", nargs="*", help="default: every reasoning family")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--difficulty", type=int, default=3)
    ap.add_argument("--tier", default="reflective")
    a = ap.parse_args()
    for family in a.families or sorted(f.name for f in reasoning_families()):
        print(excerpt(family, a.seed, a.difficulty, a.tier))


if __name__ == "__main__":
    main()
