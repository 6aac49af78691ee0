"""Scores from what the environment already verified, under the scorer contract.

``verifier`` is the outcome as a number (each engine's verifier ran when the episode was
made, and its verdict is stored in ``outcome``; nothing is verified twice here).
``prefix_correct`` gives each step 1.0 while no wrong step has happened yet and 0.0 from the
first error on: ProcessBench's label, the one ``first_error_step`` implies.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.scorers.base import Scorer, ScoreResult, register


@register
class VerifierScorer(Scorer):
    name = "verifier"
    columns = ("id", "kind", "steps", "outcome")

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], []

    def score(self, batch: pa.Table) -> ScoreResult:
        ok = pc.struct_field(batch["outcome"], "success").fill_null(False).to_numpy(zero_copy_only=False)
        return ScoreResult(scores={self.key(): ok.astype(np.float32)})


@register
class PrefixCorrectScorer(Scorer):
    name = "prefix_correct"
    columns = ("id", "kind", "steps", "outcome", "first_error_step")

    def outputs(self) -> tuple[list[str], list[str]]:
        return [], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        ok = pc.struct_field(batch["outcome"], "success").fill_null(False).to_pylist()
        lengths = pc.list_value_length(batch["steps"]).fill_null(0).to_pylist()
        labels = []
        for success, n, fe in zip(ok, lengths, batch["first_error_step"].to_pylist(), strict=True):
            if fe is None:  # error not localised: every step inherits the outcome
                labels.append(np.full(n, 1.0 if success else 0.0, np.float32))
            else:
                labels.append((np.arange(n) < (n if fe == -1 else fe)).astype(np.float32))
        return ScoreResult(step_scores={self.key(): labels})
