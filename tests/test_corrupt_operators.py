"""Corruption operators: every corruption changes its row, its label is one you can trust,
ids never collide, skips are counted and bad requests fail before any row is touched."""

from __future__ import annotations

import functools

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.research_world as rw
from filters.adversary import scorer_ranker
from filters.scorers import Scoring
from filters.scorers.base import ScorerError
from flows.config import ConfigError, parse_config
from flows.pipeline import corrupt_shard
from stores.schema import Trajectory, from_table, step_rows, validate_table
from synth.corrupt import OPERATORS, CorruptionError, OperatorSpec, corrupt, corrupt_table
from synth.corrupt.labels import replayed
from synth.corrupt.registry import REPLAYED
from synth.generate import ShardSpec, generate_shard
from tests.factories import RUN_A

FAMILIES = ("maze", "sudoku", "arithmetic", "form", "mail", "multihop")


def params() -> dict[str, dict]:
    return {f: rw.params() if f == "multihop" else {"images": "off"} for f in FAMILIES}


@functools.lru_cache(maxsize=1)
def clean_table() -> pa.Table:
    """Expert and noisy episodes of three reasoning, two GUI families and the research one."""
    p = params()
    return pa.concat_tables([generate_shard(ShardSpec(f, 2, 0, 6, {"expert": 0.7, "noisy": 0.3}, (1, 2), p[f]),
                                            RUN_A).trajectories for f in FAMILIES])


@functools.lru_cache(maxsize=1)
def clean() -> dict[str, Trajectory]:
    return {t.id: t for t in from_table(clean_table())}


def _view(t: Trajectory) -> tuple:
    """What a corruption may change: content, verdict, scores."""
    return (step_rows(t.steps), t.final_answer, t.outcome, t.scores)


def _run(name: str, c: float | None = None, eps: float = 1.0, seed: int = 7):
    return corrupt_table(clean_table(), [OperatorSpec(name, c, eps)], seed, params())


@pytest.mark.parametrize("name", sorted(OPERATORS))
@pytest.mark.parametrize("c, eps", [(None, 1.0), (0.5, 0.3)])
def test_every_corruption_changes_its_row_and_records_itself(name, c, eps):
    table, _, stats = _run(name, c, eps)
    validate_table(table)
    rows = from_table(table)
    assert rows, f"{name} corrupted nothing"
    spec = OperatorSpec(name, c, eps)
    for t in rows:
        src = clean()[t.corruption.source_id]
        assert t.split == "corrupt" and t.kind in OPERATORS[name].kinds
        assert _view(t) != _view(src)
        k = t.corruption
        assert (k.operator, k.mode, k.rate, k.scale) == (name, "random", spec.rate, pytest.approx(eps))
        if OPERATORS[name].unit == "step":
            assert k.steps and all(0 <= i < len(src.steps) for i in k.steps)
    assert stats.corrupted[name] == len(rows)
    handed = sum(OPERATORS[name].kinds.__contains__(t.kind) for t in clean().values())
    assert handed == len(rows) + stats.skipped[name] + stats.not_drawn[name]
    assert sum(stats.unsupported.values()) == len(clean()) - handed


@pytest.mark.parametrize("name", sorted(n for n, op in OPERATORS.items() if op.category in REPLAYED))
def test_action_and_reasoning_rows_carry_what_the_env_says_on_replay(name):
    for t in from_table(_run(name, 0.5, 0.5)[0]):
        src = clean()[t.corruption.source_id]
        again = replayed(src, t.steps, params()[src.task.family]).trajectory
        assert (t.first_error_step, t.outcome) == (again.first_error_step, again.outcome)
        assert step_rows(t.steps) == step_rows(again.steps)  # observations are the env's, not copies
        if src.first_error_step == -1 and t.first_error_step is not None and t.first_error_step >= 0:
            assert t.first_error_step >= min(t.corruption.steps)  # nothing breaks before the edit


@pytest.mark.parametrize("name", sorted(n for n, op in OPERATORS.items() if op.category not in REPLAYED))
def test_observation_reward_and_dynamics_rows_keep_the_env_label(name):
    for t in from_table(_run(name, 0.5, 0.5)[0]):
        src = clean()[t.corruption.source_id]
        assert t.first_error_step == src.first_error_step and len(t.steps) == len(src.steps)
        if name == "outcome_flip":  # the one label that is flipped on purpose, and says so
            assert t.outcome.success is not src.outcome.success and t.corruption.operator == "outcome_flip"
        else:
            assert t.outcome == src.outcome
        changed = [i for i, (a, b) in enumerate(zip(step_rows(t.steps), step_rows(src.steps), strict=True)) if a != b]
        assert set(changed) <= set(t.corruption.steps)  # only the recorded steps moved
        if OPERATORS[name].unit == "step":
            assert changed


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_determinism_by_seed_and_ids_that_never_collide(name):
    a, b, other = _run(name, 0.5, 0.5), _run(name, 0.5, 0.5), _run(name, 0.5, 0.5, seed=8)
    assert a[0].equals(b[0])
    ids = a[0]["id"].to_pylist()
    assert len(set(ids)) == len(ids) and not set(ids) & set(clean())
    # a flip has nothing to draw, nor has a negated reward where only the last step pays
    if name not in ("outcome_flip", "reward_negate"):
        assert not a[0].equals(other[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(OPERATORS)), row=st.integers(0, 35), c=st.floats(0, 1), eps=st.floats(0, 2),
       seed=st.integers(0, 2**32))
def test_any_rate_and_scale_give_a_changed_row_or_a_counted_skip(name, row, c, eps, seed):
    t = from_table(clean_table().slice(row, 1))[0]
    if t.kind not in OPERATORS[name].kinds:
        with pytest.raises(CorruptionError, match="does not support kind"):
            corrupt(t, OperatorSpec(name, c, eps), seed, params()[t.task.family])
        return
    first = corrupt(t, OperatorSpec(name, c, eps), seed, params()[t.task.family])
    again = corrupt(t, OperatorSpec(name, c, eps), seed, params()[t.task.family])
    if first is None:
        assert again is None
        return
    assert first.trajectory == again.trajectory and first.trajectory.id != t.id
    assert _view(first.trajectory) != _view(t)


def test_pipeline_keeps_perturbed_scores_and_rescores_the_rest():
    research = clean_table().filter(pa.compute.equal(clean_table()["kind"], "research"))
    specs = [OperatorSpec("score_random", eps=0.5), OperatorSpec("obs_noise")]
    rows, _, stats = corrupt_shard.fn(research, specs, 3, params(), Scoring())
    direct, _, _ = corrupt_table(research, specs, 3, params())
    assert sum(stats.corrupted.values()) == rows.num_rows == direct.num_rows
    by_id = {t.id: t for t in from_table(direct)}
    for t in from_table(rows):
        if t.corruption.operator == "score_random":
            assert t.scores == by_id[t.id].scores  # not undone by re-scoring
        else:
            assert "verifier" in t.scores  # scored like a clean row


def test_pipeline_shard_runs_adversarial_requests_and_keeps_the_adversary_score():
    reasoning = clean_table().filter(pa.compute.equal(clean_table()["kind"], "reasoning"))
    spec = OperatorSpec("swap_adjacent", mode="adversarial", scorer="verifier", candidates=3)
    rows, _, stats = corrupt_shard.fn(reasoning, [spec], 3, params(), Scoring())
    assert rows.num_rows == stats.corrupted["swap_adjacent"] > 0
    assert all(t.scores["adversary:verifier"] == t.scores["verifier"] for t in from_table(rows))
    # a `score:` entry's own name and params: the run's scorer is the adversary
    spec = OperatorSpec("swap_adjacent", mode="adversarial", scorer="ok", candidates=3)
    rows, _, _ = corrupt_shard.fn(reasoning, [spec], 3, params(), Scoring([{"name": "verifier", "as": "ok"}]))
    assert all(t.scores["adversary:ok"] == t.scores["ok"] for t in from_table(rows))


def test_a_row_of_a_kind_no_operator_edits_is_counted():
    rows, _, stats = corrupt_table(clean_table(), ["wrong_tool", "click_outside"], 1, params())
    assert {t.kind for t in from_table(rows)} <= {"gui", "research"}
    assert stats.unsupported == {"reasoning": 18}


@pytest.mark.parametrize("spec, message", [
    (dict(name="blur_everything"), "unknown corruption operator 'blur_everything'; known: "),
    (dict(name="obs_noise", c=1.5), r"c=1.5 is outside \[0, 1\]"),
    (dict(name="obs_noise", c=-0.1), r"c=-0.1 is outside \[0, 1\]"),
    (dict(name="obs_noise", eps=-1.0), "eps=-1.0 is negative"),
    (dict(name="click_outside", kinds=("reasoning",)), "'click_outside' does not support kind 'reasoning'; it edits gui"),
    (dict(name="obs_noise", mode="adversarial"), "mode 'adversarial' needs a scorer .* set scorer to a filters.scorers "
                                                 "name, e.g. verifier, or use mode 'random'"),
    (dict(name="obs_noise", scorer="verifier"), "scorer 'verifier' is only used by mode 'adversarial'"),
    (dict(name="obs_noise", mode="adversarial", scorer="verifier", candidates=0), "candidates=0 must be 1 to 64"),
    (dict(name="obs_noise", mode="greedy"), "unknown mode 'greedy'; use 'random' or 'adversarial'"),
])
def test_bad_requests_fail_with_what_and_how_to_fix(spec, message):
    with pytest.raises(CorruptionError, match=message):
        OperatorSpec(**spec)


def test_bad_requests_fail_before_any_row_is_touched():
    gui = next(t for t in clean().values() if t.kind == "gui")
    with pytest.raises(CorruptionError, match=f"'wrong_thought' does not support kind 'gui' \\(trajectory {gui.id}\\)"):
        corrupt(gui, "wrong_thought", 1)
    with pytest.raises(CorruptionError, match="no corruption operators given"):
        corrupt_table(clean_table(), [], 1, params())
    with pytest.raises(CorruptionError, match="adversarial corruption needs a ranker"):
        corrupt_table(clean_table(), [OperatorSpec("obs_noise", mode="adversarial", scorer="verifier")], 1, params())
    with pytest.raises(ScorerError, match="'obs_noise' \\(adversarial\\): unknown scorer 'nope'"):
        scorer_ranker([OperatorSpec("obs_noise", mode="adversarial", scorer="nope")])


def test_adversarial_mode_keeps_the_candidate_the_scorer_rates_lowest():
    seen: list[list[float]] = []

    def rank(spec, candidates):  # fewer steps rank lower: a stand-in scorer with a visible preference
        seen.append([float(len(t.steps)) for t in candidates])
        return seen[-1]

    spec = OperatorSpec("drop_step", 0.3, mode="adversarial", scorer="steps", candidates=6)
    rows, _, stats = corrupt_table(clean_table(), [spec], 4, params(), rank)
    out = from_table(rows)
    assert len(out) == stats.corrupted["drop_step"] == len(seen) and all(len(v) >= 1 for v in seen)
    for t, values in zip(out, seen, strict=True):
        assert t.corruption.mode == "adversarial" and t.scores["adversary:steps"] == min(values) == len(t.steps)
    assert rows.equals(corrupt_table(clean_table(), [spec], 4, params(), rank)[0])  # deterministic too


def test_adversarial_mode_with_a_real_scorer_prefers_what_the_verifier_rejects():
    reasoning = clean_table().filter(pa.compute.equal(clean_table()["kind"], "reasoning"))
    spec = OperatorSpec("wrong_argument", mode="adversarial", scorer="verifier", candidates=4)
    adversarial, _, _ = corrupt_table(reasoning, [spec], 2, params(), scorer_ranker([spec]))
    randomly, _, _ = corrupt_table(reasoning, [OperatorSpec("wrong_argument")], 2, params())
    failed = [not t.outcome.success for t in from_table(adversarial)]
    assert all(t.scores["adversary:verifier"] == float(t.outcome.success) for t in from_table(adversarial))
    assert sum(failed) >= sum(not t.outcome.success for t in from_table(randomly))


CONFIG = {"dataset": "d", "synth": {"reasoning": [{"family": "maze", "count": 4}]}}


def test_config_takes_names_and_entries():
    old = parse_config({**CONFIG, "corrupt": {"operators": ["swap_adjacent", "drop_step"], "fraction": 0.2}})
    assert [s.name for s in old.corrupt.specs()] == ["swap_adjacent", "drop_step"]
    new = parse_config({**CONFIG, "corrupt": {"operators": [
        "drop_step", {"name": "obs_noise", "c": 0.3, "eps": 0.1, "mode": "random"}, {"name": "outcome_flip", "c": 0.5},
        {"name": "swap_adjacent", "mode": "adversarial", "scorer": "verifier", "candidates": 3},
        {"name": "drop_step", "mode": "adversarial", "scorer": "mine"}]},
        "score": {"scorers": [{"name": "verifier", "as": "mine"}]}})
    assert new.corrupt.specs() == [OperatorSpec("drop_step"), OperatorSpec("obs_noise", 0.3, 0.1),
                                   OperatorSpec("outcome_flip", 0.5),
                                   OperatorSpec("swap_adjacent", mode="adversarial", scorer="verifier", candidates=3),
                                   OperatorSpec("drop_step", mode="adversarial", scorer="mine")]
    assert old.config_hash() == parse_config({**CONFIG, "corrupt": {"operators": ["swap_adjacent", "drop_step"],
                                                                     "fraction": 0.2}}).config_hash()


@pytest.mark.parametrize("operators, message", [
    (["swap_adjacent", "nope"], r"corrupt.operators: .*entry 1 \('nope'\): unknown corruption operator 'nope'"),
    ([{"name": "obs_noise", "c": 2}], r"entry 0 \('obs_noise'\): .*c=2.0 is outside \[0, 1\]"),
    ([{"name": "obs_noise", "eps": -0.5}], r"entry 0 \('obs_noise'\): .*eps=-0.5 is negative"),
    ([{"name": "obs_noise", "mode": "adversarial"}], r"entry 0 .*needs a scorer"),
    ([{"name": "drop_element", "kinds": ["research"]}], r"entry 0 .*does not support kind 'research'"),
    ([{"name": "obs_noise", "mode": "adversarial", "scorer": "nope"}],
     r"entry 0 \('obs_noise'\): unknown scorer 'nope'; name a `score:` scorer or one of "),
    (["drop_step", "click_outside"], r"entry 1 \('click_outside'\) edits only gui trajectories and this config "
                                     r"synthesizes reasoning"),
])
def test_config_errors_name_the_entry(operators, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**CONFIG, "corrupt": {"operators": operators}})
