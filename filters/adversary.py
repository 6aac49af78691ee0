"""The scorer behind adversarial corruption: ranks candidate corruptions with any scorer.

RIQL's adversarial corruption picks the perturbation that hurts a model most; here, without
gradients, an adversarial request draws M random corruptions of a row and keeps the one a
chosen scorer rates lowest (``synth.corrupt`` does the drawing and the choice). The ranking
lives in ``filters/`` because ``synth/`` builds data and must not depend on how it is graded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from filters.scorers.base import Scorer, ScorerError, apply_scorers, build_scorer
from stores.schema import SCORES_TYPE, Trajectory, to_table
from synth.corrupt import OperatorSpec
from synth.corrupt.apply import Ranker


def scorer_ranker(specs: list[OperatorSpec], seed: int = 0,
                  family_params: Mapping[str, Mapping[str, Any]] | None = None,
                  entries: Iterable[Mapping[str, Any]] = ()) -> Ranker:
    """A ranker for the adversarial ``specs``: each one's scorer is built now (an unknown
    scorer or bad params fail before any row is corrupted) and ranks by its first trajectory
    score. A scorer named like one of the score stage's ``entries`` (its ``as`` or ``name``) is
    built from that entry, params included, so the adversary is the run's own scorer."""
    configured = {e.get("as") or e["name"]: e for e in entries}
    scorers: dict[str, tuple[Scorer, str]] = {}
    for spec in specs:
        if spec.mode != "adversarial" or spec.scorer in scorers:
            continue
        try:
            scorer = build_scorer(configured.get(spec.scorer, {"name": spec.scorer}), seed, family_params)
        except ScorerError as e:
            raise ScorerError(f"corruption operator {spec.name!r} (adversarial): {e}") from None
        names, _ = scorer.outputs()
        if not names:
            raise ScorerError(f"corruption operator {spec.name!r}: scorer {spec.scorer!r} writes no trajectory score "
                              "to rank candidates by; pick one that does, e.g. verifier")
        scorers[spec.scorer] = (scorer, names[0])

    def rank(spec: OperatorSpec, candidates: list[Trajectory]) -> list[float]:
        scorer, key = scorers[spec.scorer]
        scored, _ = apply_scorers(unscored(to_table(candidates)), [scorer])
        return [next((e["value"] for e in row if e["name"] == key), None) for row in scored["scores"].to_pylist()]

    return rank


def unscored(table: pa.Table) -> pa.Table:
    """``table`` with empty ``scores``: scores copied from a clean row must not stand in for a
    scorer that has no opinion (NaN) on the corrupted one."""
    return table.set_column(table.schema.get_field_index("scores"), "scores",
                            pa.array([[]] * table.num_rows, SCORES_TYPE))
