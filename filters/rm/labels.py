"""Training targets of the reward model, from the labels the pipeline already made.

Per trajectory: the verifier's outcome. Per step, in order of preference (``source``):
- ``mc``: Monte-Carlo values (``step_scores[mc_key]``, Math-Shepherd soft labels) where a row
  has them;
- ``prefix``: ProcessBench's label from ``first_error_step`` (1 before the first error, 0 from
  it on); a corrupted row whose replay left it unknown takes its first corrupted step when it
  failed;
- tiers: an ``expert`` row that succeeded, with no localised error, is correct at every step;
- anything else has no step target (masked out of the step loss), only its outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

LABEL_COLUMNS = ("outcome", "first_error_step", "corruption", "policy", "step_scores", "split", "steps")
SOURCES = ("auto", "prefix", "mc")


@dataclass
class Labels:
    outcome: np.ndarray  # float32 [rows]
    steps: list[np.ndarray | None]  # per row: float32 [n_steps] targets, or None (no step target)
    first_error: list[int | None]  # per row: -1, the first wrong step, or None (unknown)
    tier: list[str]
    corrupted: np.ndarray  # bool [rows]


def first_error_of(row: dict) -> int | None:
    fe = row.get("first_error_step")
    if fe is not None:
        return int(fe)
    corruption = row.get("corruption")
    success = bool((row.get("outcome") or {}).get("success"))
    if corruption and corruption.get("steps") and not success:
        return int(min(corruption["steps"]))
    return None


def labels_of(table: pa.Table, source: str = "auto", mc_key: str = "mc.soft") -> Labels:
    if source not in SOURCES:
        raise ValueError(f"step label source {source!r}: choose one of {SOURCES}")
    have = [c for c in LABEL_COLUMNS if c in table.column_names]
    rows = table.select(have).to_pylist()
    outcome, steps, fes, tiers, corrupted = [], [], [], [], []
    for row in rows:
        n = len(row.get("steps") or [])
        success = bool((row.get("outcome") or {}).get("success"))
        fe = first_error_of(row)
        tier = (row.get("policy") or {}).get("tier") or ""
        mc = next((e["values"] for e in row.get("step_scores") or [] if e["name"] == mc_key), None)
        target: np.ndarray | None = None
        if source in ("auto", "mc") and mc is not None and len(mc) == n:
            target = np.asarray(mc, np.float32)
        elif source == "mc":
            target = None
        elif fe is not None:
            target = (np.arange(n) < (n if fe < 0 else fe)).astype(np.float32)
        elif tier == "expert" and success:
            target = np.ones(n, np.float32)
        outcome.append(1.0 if success else 0.0)
        steps.append(target)
        fes.append(fe)
        tiers.append(tier)
        corrupted.append(row.get("split") == "corrupt" or row.get("corruption") is not None)
    return Labels(np.asarray(outcome, np.float32), steps, fes, tiers, np.asarray(corrupted, bool))
