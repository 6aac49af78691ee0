"""Trajectory- and step-level scores from what the environment already verified.

``verifier`` is the outcome as a number; ``prefix_correct`` gives each step 1.0 while no wrong
step has happened yet and 0.0 from the first error on: the PRM-style label that
``first_error_step`` implies. Learned reward models and judges join these as further keys.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from stores.schema import SCORES_TYPE, STEP_SCORES_TYPE


def score_table(table: pa.Table) -> pa.Table:
    success = pc.struct_field(table["outcome"], "success").to_pylist()
    lengths = pc.list_value_length(table["steps"]).to_pylist()
    first_errors = table["first_error_step"].to_pylist()
    scores, step_scores = [], []
    for old, old_steps, ok, n, fe in zip(
        table["scores"].to_pylist(), table["step_scores"].to_pylist(), success, lengths, first_errors, strict=True
    ):
        scores.append(_upsert(old, "verifier", {"value": 1.0 if ok else 0.0}))
        if fe is None:  # error not localised: every step inherits the outcome
            labels = [1.0 if ok else 0.0] * n
        else:
            labels = [1.0 if fe == -1 or i < fe else 0.0 for i in range(n)]
        step_scores.append(_upsert(old_steps, "prefix_correct", {"values": labels}))
    table = table.set_column(table.schema.get_field_index("scores"), "scores", pa.array(scores, SCORES_TYPE))
    return table.set_column(
        table.schema.get_field_index("step_scores"), "step_scores", pa.array(step_scores, STEP_SCORES_TYPE)
    )


def _upsert(entries: list[dict] | None, name: str, payload: dict) -> list[dict]:
    kept = [e for e in entries or [] if e["name"] != name]
    return sorted([*kept, {"name": name, **payload}], key=lambda e: e["name"])
