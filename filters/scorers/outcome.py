"""Scores from what the environment already verified, under the scorer contract.

``verifier`` is the outcome as a number (each engine's verifier ran when the episode was
made, and its verdict is stored in ``outcome``; nothing is verified twice here).
``reverify`` replays the episode in a fresh env rebuilt from the stored task and asks the
engine's own verifier again (``env.outcome`` on the replayed final state and answer): not a
second copy of any verifier, and worth its cost where the stored verdict is not the env's own
(rows imported from elsewhere, hand-edited rows, llm rows whose outcome came from another
code version) or to audit a version; its ``disagreements`` figure counts rows whose stored
outcome differs. Generated and corrupted rows already carry the verdict of a replay, so the
pipeline's default stays ``verifier``.
``prefix_correct`` gives each step 1.0 while no wrong step has happened yet and 0.0 from the
first error on: ProcessBench's label, the one ``first_error_step`` implies.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.scorers.base import Scorer, ScoreResult, register
from filters.scorers.replay import ROW_COLUMNS, fresh_env, replay
from stores.schema import from_table


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
class ReverifyScorer(Scorer):
    name = "reverify"
    columns = ROW_COLUMNS

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], []

    def score(self, batch: pa.Table) -> ScoreResult:
        verdicts = np.zeros(batch.num_rows, np.float32)
        disagree = 0
        for row, t in enumerate(from_table(batch)):
            env = fresh_env(t, self.family_params)
            _done, answer = replay(env, t.steps)
            ok = env.outcome(t.final_answer if t.final_answer is not None else answer).success
            verdicts[row] = ok
            disagree += ok != t.outcome.success
        return ScoreResult(scores={self.key(): verdicts}, stats={"disagreements": disagree})


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
