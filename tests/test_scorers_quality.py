"""Quality filters on hand-built trajectories, and the alignment property of every scorer
that needs no env."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.scorers import Scoring, score_batches
from stores.schema import (
    Action,
    Observation,
    Outcome,
    Policy,
    Step,
    Task,
    Trajectory,
    content_id,
    to_table,
)
from tests.factories import PROVENANCE
from tests.scoring_toy import NAME as LINE


def row(kind: str, steps: list[tuple[str, str, dict | str, str]], *, family: str = LINE, answer: str = "end",
        instruction: str = "Walk to the end.", env: dict | None = None, first: str | None = None) -> Trajectory:
    """steps: (thought, action name, arguments (a dict, or raw JSON text), observation)."""
    task = Task(f"{kind}-{len(steps)}-{instruction[:8]}", family, instruction, 1, {"answer": answer},
                env or {"screen": [1280, 800]}, 1)
    built = [Step(i, th, Action(name, args), Observation(obs), [], 0.0) for i, (th, name, args, obs) in enumerate(steps)]
    t = Trajectory(content_id(task, [s for s in built if isinstance(s.action.arguments, dict)], None), kind, task,
                   built, None, Outcome(True, "v", ""), Policy("p", "expert"), PROVENANCE, first_error_step=-1,
                   initial_observation=Observation(first) if first is not None else None)
    return t


def table_of(rows):
    """A table; raw-string arguments are written as given (malformed JSON is what we test)."""
    clean = [r for r in rows]
    table = to_table([_with_dict_args(r) for r in clean])
    steps = table["steps"].to_pylist()
    for r, ss in zip(clean, steps, strict=True):
        for s, orig in zip(ss, r.steps, strict=True):
            if isinstance(orig.action.arguments, str):
                s["action"]["arguments"] = orig.action.arguments
    import pyarrow as pa

    return table.set_column(table.schema.get_field_index("steps"), "steps", pa.array(steps, table.schema.field("steps").type))


def _with_dict_args(t: Trajectory) -> Trajectory:
    from dataclasses import replace

    return replace(t, steps=[replace(s, action=Action(s.action.name, s.action.arguments if isinstance(
        s.action.arguments, dict) else {})) for s in t.steps], step_rows=None)


def scores(table, *entries):
    out, stats = score_batches(table, Scoring(list(entries), 0, 3, {}))
    return [({e["name"]: e["value"] for e in r["scores"]}, {e["name"]: e["values"] for e in r["step_scores"]})
            for r in out.to_pylist()]


def test_action_valid_checks_names_per_kind_and_json_arguments():
    rows = [
        row("reasoning", [("a", "think", {}, ""), ("b", "step", {"good": True}, ""), ("c", "jump", {}, "")]),
        row("gui", [("a", "click", {"x": 1, "y": 2}, ""), ("b", "clik", {}, ""), ("c", "finish", {}, "")]),
        row("research", [("a", "search", {"query": "x"}, ""), ("b", "open", "[1, 2]", ""), ("c", "open", "{bad", "")]),
    ]
    (r, g, s) = scores(table_of(rows), {"name": "action_valid"})
    assert r[1]["action_valid"] == [1.0, 1.0, 0.0] and r[0]["action_valid"] == 0.0
    assert g[1]["action_valid"] == [1.0, 0.0, 1.0]
    assert s[1]["action_valid"] == [1.0, 0.0, 0.0]


def test_length_bounds():
    rows = [row("gui", [("x" * 10, "wait", {}, "")] * 3), row("gui", [("x" * 50, "wait", {}, "")]), row("gui", [])]
    out = scores(table_of(rows), {"name": "length", "params": {"min_steps": 1, "max_steps": 2, "max_thought_chars": 20}})
    assert [o[0]["length"] for o in out] == [0.0, 0.0, 0.0]
    assert out[1][1]["length"] == [0.0] and out[0][1]["length"] == [1.0, 1.0, 1.0]
    ok = scores(table_of(rows[:1]), {"name": "length", "params": {"max_steps": 3}})
    assert ok[0][0]["length"] == 1.0


def test_repetition_when_no_ngram_fits_inside_a_step():
    # three words in all, but no step holds three: no n-gram, rate 0 (found by the property test)
    rows = [row("reasoning", [("a", "think", {}, ""), ("a a", "think", {}, "")])]
    (s, steps), = scores(table_of(rows), {"name": "repetition", "params": {"n": 3}})
    assert steps["repetition"] == [0.0, 0.0] and s["repetition"] == 0.0


def test_repetition_rate_of_word_ngrams():
    rows = [row("gui", [("A b c a b c", "wait", {}, ""), ("a b c", "wait", {}, ""), ("d e", "wait", {}, "")])]
    (s, steps), = scores(table_of(rows), {"name": "repetition", "params": {"n": 3}})
    # step 0: abc bca cab abc -> 1 of 4 repeated; step 1: abc again; step 2 has no 3-gram
    assert steps["repetition"] == [0.25, 1.0, 0.0]
    assert s["repetition"] == pytest.approx(0.4)


def test_leak_in_instruction_and_in_thoughts_before_the_solution():
    rows = [
        # the plan names the path before any move: a leak; the final check restates it: not one
        row("reasoning", [("I bet it is LUL", "think", {}, ""), ("go left", "step", {"good": True}, "at 1"),
                          ("so the path is LUL", "think", {}, ""), ("LUL", "answer", {"answer": "LUL"}, "")],
            answer="LUL"),
        # research: the answer shows up on a page first, then the thought may say it
        row("research", [("search", "search", {"query": "q"}, "Paris is the capital"),
                         ("it is paris", "answer", {"answer": "Paris"}, "")], answer="Paris"),
        row("gui", [("type it", "type", {"text": "Blue"}, "")], answer="Blue", instruction="Set colour to Blue"),
        row("gui", [("ok", "wait", {}, "")], answer="no"),  # too short to judge
    ]
    out = scores(table_of(rows), {"name": "leak"})
    assert out[0][1]["leak"] == [1.0, 0.0, 0.0, 0.0] and out[0][0]["leak"] == 1.0
    assert out[1][1]["leak"] == [0.0, 0.0] and out[1][0]["leak"] == 0.0
    assert out[2][0]["leak.instruction"] == 1.0 and out[0][0]["leak.instruction"] == 0.0
    assert "leak" not in out[3][0] and "leak.instruction" not in out[3][0]  # NaN: no opinion


def test_offscreen_gui_pointer_actions():
    rows = [row("gui", [("a", "click", {"x": 2000, "y": 10}, ""), ("b", "click", {"x": 500, "y": 900, "unit": "norm1000"}, ""),
                        ("c", "click", {"element": 3}, ""), ("d", "scroll", {"direction": "down", "amount": 1, "x": -1, "y": 5}, ""),
                        ("e", "click", {"x": 1279, "y": 799}, "")])]
    (s, steps), = scores(table_of(rows), {"name": "offscreen"})
    assert steps["offscreen"] == [0.0, 1.0, 1.0, 0.0, 1.0] and s["offscreen"] == 0.0


_thought = st.text(alphabet="ab c.\n", max_size=30)
_step = st.tuples(_thought, st.sampled_from(["think", "step", "click", "wait", "answer", "bogus"]),
                  st.sampled_from([{}, {"x": 5, "y": 5}, {"answer": "end"}, "[]", "{"]), st.text("end x", max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["reasoning", "gui", "research"]), st.lists(_step, max_size=7)),
                min_size=1, max_size=6))
def test_step_scores_always_align_with_steps(spec):
    rows = [row(kind, steps, instruction=f"task {i}") for i, (kind, steps) in enumerate(spec)]
    entries = [{"name": n} for n in ("verifier", "prefix_correct", "action_valid", "length", "repetition", "leak")]
    if all(kind == "gui" for kind, _ in spec):
        entries.append({"name": "offscreen"})
    for (_, step_scores), (_, steps) in zip(scores(table_of(rows), *entries), spec, strict=True):
        assert step_scores and all(len(v) == len(steps) for v in step_scores.values())
