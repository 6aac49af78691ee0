"""Step labels that credit recoveries, beside ProcessBench's ``prefix_correct``.

``prefix_correct`` is 0 for every step from the first error on, so a reflective trace that
catches its mistake, undoes it and succeeds reads 1100...0: a PRM trained on it learns that
checking one's work is wrong. ``recovery`` replays the episode in a fresh env and labels each
step by what it did to the episode: 1 when the env accepts it and the state after it can still
be completed, 0 otherwise (the mistake, and moves carried on inside the branch it spoiled);
the step that puts the episode back on track (the undo) is accepted into a completable state,
so it is 1, and so are the thinking steps right before it (the catch: "looking back at step
k ..."). In the GUI and research envs every state can be recovered from, so the label is the
env's step check, under which the corrective action is accepted progress.

``recovery.recovered`` (trajectory level) is 1 for an episode that made a mistake and still
succeeded, 0 for one that made a mistake and failed, NaN for one without a flagged mistake.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from filters.scorers.base import Scorer, ScoreResult, register
from filters.scorers.replay import ROW_COLUMNS, fresh_env, on_track
from stores.schema import from_table

THINKING = frozenset({"think", "context.summarize"})  # steps that change nothing in the world


@register
class RecoveryScorer(Scorer):
    name = "recovery"
    columns = ROW_COLUMNS

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key("recovered")], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        labels, recovered = [], np.full(batch.num_rows, np.nan, np.float32)
        for row, t in enumerate(from_table(batch)):
            env = fresh_env(t, self.family_params)
            good = np.zeros(len(t.steps), np.float32)
            was_on_track = True
            for i, step in enumerate(t.steps):
                accepted = env.accepts(step.action)
                result = env.step(step.action)
                now = on_track(env)
                good[i] = accepted and now
                if good[i] and not was_on_track:  # the undo: credit the catch right before it
                    j = i - 1
                    while j >= 0 and t.steps[j].action.name in THINKING:
                        good[j] = 1.0
                        j -= 1
                was_on_track = now
                if result.done:
                    break
            labels.append(good)
            if (good == 0).any():
                recovered[row] = float(t.outcome.success)
        return ScoreResult(scores={self.key("recovered"): recovered}, step_scores={self.key(): labels})
