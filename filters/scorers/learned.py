"""The learned reward model (:mod:`filters.rm`) as a scorer: ``scores[learned_rm]`` is the
trajectory head's probability of success, ``step_scores[learned_rm]`` the step head's
probability that each step is still correct.

The model is opened when the scorer is built, so a missing path, a folder that is not a
trajforge RM or a version that is not a model fails at config time, before any work. The kinds
the scorer accepts are the kinds the model was trained on: rows of another kind are refused
(a model that never saw a GUI screen has no opinion worth storing on one). torch is imported
only when the scorer is built, so configs without it start fast.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pydantic import Field

from filters.rm.inputs import INPUT_COLUMNS, input_rows
from filters.scorers.base import Scorer, ScorerError, ScoreResult, ScorerParams, register
from stores.store import Store


class LearnedRMParams(ScorerParams):
    model: str  # NAME@REF of a model version, or the folder of a saved model
    batch_size: int = Field(64, ge=1)
    device: str = "auto"  # auto: cuda when present
    store: str | None = None  # store root for NAME@REF (default: TRAJFORGE_HOME)


@register
class LearnedRMScorer(Scorer):
    name = "learned_rm"
    columns = INPUT_COLUMNS
    Params = LearnedRMParams

    def __init__(self, params: LearnedRMParams, **context: Any):
        super().__init__(params, **context)  # instance, seed, family_params
        from filters.rm.model import pick_device  # torch loads only when an RM is asked for
        from filters.rm.versions import open_model

        try:
            device = pick_device(params.device)
            self.model = open_model(params.model, Store(params.store) if params.store else None, device)
        except ValueError as e:  # NotARewardModelError, a bad device
            raise ScorerError(f"scorer {self.instance!r}: {e}") from None
        self.kinds = frozenset(self.model.kinds)  # check_kinds refuses rows of kinds it was not trained on

    @property
    def device(self) -> str:
        return str(self.model.device)

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        traj, steps = self.model.predict(input_rows(batch), batch_size=self.params.batch_size)
        return ScoreResult(scores={self.key(): traj}, step_scores={self.key(): steps},
                           stats={"steps": float(sum(len(s) for s in steps))})
