"""The reward model's inputs (no leak of step t's observation or of any verdict), its labels and
its metrics, on hand-built values."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from filters.rm.config import RMConfig
from filters.rm.inputs import INPUT_COLUMNS, Budget, input_rows, step_texts, trajectory_pieces
from filters.rm.labels import labels_of
from filters.rm.metrics import auroc, best_threshold, ece, first_error_f1, predicted_first_error
from filters.rm.model import RewardModel
from filters.rm.train import model_meta
from stores.schema import Action, Corruption, Observation, Step, Trajectory, content_id, to_table
from tests.factories import make_trajectory


def episode(n: int = 4, fe: int | None = 2, success: bool = False, tier: str = "noisy") -> Trajectory:
    base = make_trajectory(0, n_steps=n)
    steps = [Step(j, f"think{j} about it", Action("move", {"to": j}), Observation(f"OBSMARK{j} state"), [], 0.0)
             for j in range(n)]
    return dataclasses.replace(base, id=content_id(base.task, steps, "7"), steps=steps, final_answer="7",
                               outcome=dataclasses.replace(base.outcome, success=success, detail="VERDICTMARK"),
                               policy=dataclasses.replace(base.policy, tier=tier), first_error_step=fe,
                               scores={"verifier": 0.0})


def test_step_text_never_holds_its_own_observation_or_a_verdict():
    rows = input_rows(to_table([episode()]))
    texts = step_texts(rows[0], Budget())
    assert len(texts) == 4
    for t, text in enumerate(texts):
        assert f"think{t}" in text
        assert f"OBSMARK{t}" not in text and all(f"OBSMARK{j}" not in text for j in range(t, 4))
        assert all(f"OBSMARK{j}" in text for j in range(t))  # the previous observations are there
        assert "VERDICTMARK" not in text
    assert not {"outcome", "first_error_step", "scores", "step_scores", "corruption", "policy"} & set(INPUT_COLUMNS)
    assert set(rows[0]) <= set(INPUT_COLUMNS)


def test_history_is_bounded_by_the_budget():
    row = input_rows(to_table([episode(n=10)]))[0]
    text = step_texts(row, Budget(history_steps=2))[9]
    assert "OBSMARK7" in text and "OBSMARK8" in text and "OBSMARK6" not in text


def test_pieces_put_each_score_before_its_observation():
    pieces = trajectory_pieces(input_rows(to_table([episode()]))[0], Budget())
    roles = [(p.role, p.step, p.scored) for p in pieces]
    assert roles[0] == ("task", -1, False) and roles[-1] == ("answer", -1, False)
    for t in range(4):
        act = roles.index(("act", t, True))
        assert roles[act + 1] == ("obs", t, False)


def small_model(rows) -> RewardModel:
    torch.manual_seed(0)
    meta = model_meta(RMConfig(dropout=0.0), ["reasoning", "gui", "research"], [], "x@v1")
    return RewardModel.create(meta, (p.text for r in rows for p in trajectory_pieces(r, Budget())))


def test_causal_backbone_cannot_see_a_steps_own_observation():
    row = input_rows(to_table([episode()]))[0]
    model = small_model([row])
    changed = dict(row, steps=[dict(s) for s in row["steps"]])
    changed["steps"][2]["observation"] = {"text": "a completely different screen 99 42", "image_ref": None}
    _, before = model.predict([row])
    _, after = model.predict([changed])
    np.testing.assert_allclose(before[0][:3], after[0][:3], atol=1e-6)  # steps 0..2 never read obs 2
    assert not np.allclose(before[0][3], after[0][3])  # step 3 does


def test_labels_from_prefix_corruption_tiers_and_mc():
    corrupt = dataclasses.replace(episode(fe=None), corruption=Corruption("drop_step", "single", 1.0, 1.0, [1, 3], "x"),
                                  split="corrupt")
    expert = episode(fe=None, success=True, tier="expert")
    unknown = episode(fe=None, success=False, tier="llm")
    mc = dataclasses.replace(episode(fe=1), step_scores={"mc.soft": [1.0, 0.5, 0.25, 0.0]})
    labels = labels_of(to_table([episode(fe=2), corrupt, expert, unknown, mc]))
    assert labels.steps[0].tolist() == [1, 1, 0, 0]
    assert labels.steps[1].tolist() == [1, 0, 0, 0] and labels.first_error[1] == 1 and labels.corrupted[1]
    assert labels.steps[2].tolist() == [1, 1, 1, 1]
    assert labels.steps[3] is None and labels.first_error[3] is None
    assert labels.steps[4].tolist() == [1.0, 0.5, 0.25, 0.0]
    assert labels_of(to_table([mc]), source="prefix").steps[0].tolist() == [1, 0, 0, 0]
    assert labels.outcome.tolist() == [0, 0, 1, 0, 0]
    with pytest.raises(ValueError, match="choose one of"):
        labels_of(to_table([mc]), source="bogus")


def test_auroc_on_known_arrays():
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert auroc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5  # a tie counts half
    assert auroc(np.array([1.0, 2.0, np.nan]), np.array([0, 1, 0])) == 1.0  # NaN rows left out
    assert math.isnan(auroc(np.array([0.2, 0.3]), np.array([1, 1])))


def test_first_error_f1_is_processbenchs():
    assert predicted_first_error(np.array([0.9, 0.7, 0.2, 0.9]), 0.5) == 2
    assert predicted_first_error(np.array([0.9, 0.7]), 0.5) == -1
    r = first_error_f1([2, -1, 1, -1, 0], [2, 3, 1, -1, -1])
    assert r["acc_erroneous"] == pytest.approx(2 / 3) and r["acc_correct"] == 0.5
    assert r["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert math.isnan(first_error_f1([1], [1])["f1"])  # no correct rows: undefined, not 1


def test_ece_and_threshold():
    assert ece(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 1, 0, 0])) == pytest.approx(0.1)
    assert ece(np.array([0.75, 0.75]), np.array([1, 0])) == pytest.approx(0.25)
    steps = [np.array([0.9, 0.3, 0.3]), np.array([0.9, 0.45, 0.9]), np.array([0.9, 0.9])]
    th = best_threshold(steps, [1, -1, -1])
    assert 0.3 < th <= 0.45
