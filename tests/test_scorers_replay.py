"""Scorers that rebuild the env: Monte-Carlo values (exact on a tiny family and on real
maze traces), recovery labels, reference alignment and re-verification."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.scorers import Scoring, score_batches
from stores.schema import Outcome, Provenance, to_table
from synth.generate import ShardSpec, generate_shard
from tests.scoring_toy import line_row

PROV = Provenance("", "", "code", "cfg", "run", datetime(2026, 1, 1, tzinfo=UTC))


def scored(rows, *entries, seed=0):
    table, stats = score_batches(to_table(rows), Scoring(list(entries), seed, 100, {}))
    out = []
    for r in table.to_pylist():
        out.append(({e["name"]: e["value"] for e in r["scores"]}, {e["name"]: e["values"] for e in r["step_scores"]}))
    return out, stats


def test_mc_values_are_exact_without_exploration():
    rows = [line_row([True, True, False]), line_row([True, True, True, True], tier="expert")]
    (s1, st1), (s2, st2) = scored(rows, {"name": "mc", "params": {"rollouts": 3, "epsilon": 0.0}})[0]
    assert st1["mc.soft"] == [1.0, 1.0, 0.0] and st1["mc.hard"] == [1.0, 1.0, 0.0]
    assert s1["mc.value"] == 1.0
    assert st2["mc.soft"] == [1.0, 1.0, 1.0, 1.0]


def test_mc_soft_value_matches_closed_form_and_reports_cost():
    # after one good step on a line of 3 cells, 2 are left: success probability (1 - 0.5) ** 2
    rows = [line_row([True, False], n=3)]
    (out, stats) = scored(rows, {"name": "mc", "params": {"rollouts": 4000, "epsilon": 0.5}})
    (scores, steps), = out
    assert steps["mc.soft"][0] == pytest.approx(0.25, abs=0.025)
    assert scores["mc.value"] == pytest.approx(0.125, abs=0.02)  # 3 cells left before the first step
    assert steps["mc.soft"][1] == 0.0 and steps["mc.hard"] == [1.0, 0.0]
    cost = stats["mc"]
    assert cost["rollouts"] == 8000 and cost["labelled_steps"] == 2  # the ended prefix needs no rollout
    assert cost["env_steps"] > cost["rollouts"] and cost["seconds"] > 0


def test_mc_is_deterministic_given_its_seed():
    rows = [line_row([True, True, False], n=5)]
    entry = {"name": "mc", "params": {"rollouts": 16, "epsilon": 0.3}}
    assert scored(rows, entry, seed=4)[0] == scored(rows, entry, seed=4)[0]
    assert scored(rows, entry, seed=4)[0] != scored(rows, entry, seed=5)[0]


@pytest.fixture(scope="module")
def maze_rows():
    spec = ShardSpec("maze", 3, 0, 10, {"expert": 0.3, "reflective": 0.4, "noisy": 0.3}, (1, 2), {"images": "off"})
    return generate_shard(spec, PROV).trajectories


def test_recovery_credits_catch_undo_and_continuation(maze_rows):
    table, _ = score_batches(maze_rows, Scoring([{"name": "recovery"}, {"name": "prefix_correct"}]))
    checked = 0
    for r in table.to_pylist():
        steps = {e["name"]: e["values"] for e in r["step_scores"]}
        fe, label = r["first_error_step"], steps["recovery"]
        names = [s["action"]["name"] for s in r["steps"]]
        if r["policy"]["tier"] == "expert":
            assert label == [1.0] * len(names)
        if r["policy"]["tier"] != "reflective" or fe is None or fe < 0:
            continue
        checked += 1
        assert steps["prefix_correct"][fe:] == [0.0] * (len(names) - fe)  # ProcessBench's label is kept
        assert label[:fe] == [1.0] * fe and label[fe] == 0.0  # the mistake is negative
        undo = next(i for i in range(fe + 1, len(names)) if names[i] == "backtrack" and label[i] == 1.0)
        assert all(v == 1.0 for v in label[undo:])  # the undo and the correct continuation
        assert names[undo - 1] == "think" and label[undo - 1] == 1.0  # the catch right before it
        assert {e["name"]: e["value"] for e in r["scores"]}["recovery.recovered"] == 1.0
    assert checked >= 2


def test_reference_alignment_finds_the_first_error(maze_rows):
    table, _ = score_batches(maze_rows, Scoring([{"name": "reference"}]))
    agree = 0
    rows = table.to_pylist()
    for r in rows:
        scores = {e["name"]: e["value"] for e in r["scores"]}
        label = {e["name"]: e["values"] for e in r["step_scores"]}["reference"]
        first = int(scores["reference.first_error"])
        assert label == [1.0 if i < (len(label) if first < 0 else first) else 0.0 for i in range(len(label))]
        if r["policy"]["tier"] == "expert":
            assert first == -1
        agree += first == (r["first_error_step"] if r["first_error_step"] is not None else -2)
    assert agree >= 0.8 * len(rows)


def test_reference_on_the_toy_family_by_state_and_by_text():
    expert, wrong = line_row([True] * 4, tier="expert"), line_row([True, None, False])
    out, _ = scored([expert, wrong], {"name": "reference"})
    assert out[1][0]["reference.first_error"] == 2 and out[1][1]["reference"] == [1.0, 1.0, 0.0]
    # by text: the thought "thought 2" with a bad step is like no step of the expert's "walk on"s
    out, _ = scored([wrong], {"name": "reference", "params": {"by": "text", "text": "step", "min_similarity": 0.9}})
    assert out[0][0]["reference.first_error"] == 0  # no reference row in the batch: the expert is run afresh


def test_reverify_asks_the_env_again():
    good = line_row([True] * 4, tier="expert")
    lying = replace(line_row([True, False]), outcome=Outcome(True, "line", "edited"))
    out, stats = scored([good, lying], {"name": "reverify"}, {"name": "verifier"})
    assert [o[0]["reverify"] for o in out] == [1.0, 0.0]
    assert [o[0]["verifier"] for o in out] == [1.0, 1.0]  # the stored verdict, as stored
    assert stats["reverify"]["disagreements"] == 1


def test_mc_agrees_with_first_error_on_maze(maze_rows):
    table, _ = score_batches(maze_rows, Scoring([{"name": "mc", "params": {"rollouts": 4, "epsilon": 0.0}}]))
    before, after = [], []
    for r in table.to_pylist():
        soft = np.array({e["name"]: e["values"] for e in r["step_scores"]}["mc.soft"])
        fe = r["first_error_step"]
        if fe is not None and fe >= 0:
            assert soft[fe] == 0.0  # a move that spoils the maze cannot be completed forwards
            before += soft[:fe].tolist()
            after.append(soft[fe])
        if r["outcome"]["success"]:
            assert soft[-1] == 1.0  # the verified answer
    # the rollout policy wanders (the env accepts exploring moves), so live prefixes are not all 1
    assert np.mean(before) > 0.3 and max(after) == 0.0


def test_replaying_scorers_work_on_research_and_gui():
    from tests import research_world as rw

    research = [rw.episode(s, 2, tier, rng_seed=k) for s in (1, 2) for k, tier in enumerate(["expert", "noisy"])]
    gui = generate_shard(ShardSpec("form", 2, 0, 6, {"expert": 0.4, "reflective": 0.3, "noisy": 0.3}, (1, 2),
                                   {"images": "off"}), PROV).trajectories
    entries = [{"name": "mc", "params": {"rollouts": 2}}, {"name": "reference"}, {"name": "recovery"},
               {"name": "reverify"}]
    for table, params in ((to_table(research), {"multihop": rw.params()}), (gui, {})):
        out, stats = score_batches(table, Scoring(entries, 0, 100, params))
        assert stats["mc"]["rollouts"] > 0 and stats["reverify"]["disagreements"] == 0
        for r in out.to_pylist():
            s = {e["name"]: e["value"] for e in r["scores"]}
            steps = {e["name"]: e["values"] for e in r["step_scores"]}
            assert s["reverify"] == float(r["outcome"]["success"])
            assert steps["mc.soft"][-1] == float(r["outcome"]["success"])  # the last step's value is the verdict
            if r["policy"]["tier"] == "expert":
                assert s["reference.first_error"] == -1 and set(steps["recovery"]) == {1.0}
            if r["first_error_step"] is not None and r["first_error_step"] >= 0:
                assert steps["recovery"][r["first_error_step"]] == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from([True, False, None]), max_size=6), min_size=1, max_size=5))
def test_replaying_scorers_align_with_steps(moves):
    rows = [line_row(m, n=3, seed=i) for i, m in enumerate(moves)]
    entries = [{"name": "mc", "params": {"rollouts": 2, "epsilon": 0.5}}, {"name": "recovery"}, {"name": "reference"},
               {"name": "reverify"}]
    table, _ = score_batches(to_table(rows), Scoring(entries, 0, 2, {}))
    for r, m in zip(table.to_pylist(), moves, strict=True):
        assert all(len(e["values"]) == len(m) for e in r["step_scores"])
        assert {e["name"] for e in r["step_scores"]} == {"mc.soft", "mc.hard", "recovery", "reference"}
