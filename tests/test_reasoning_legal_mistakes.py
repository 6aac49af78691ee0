"""Legal-but-wrong moves in arithmetic, cryptarithm, game24, lis and topo_sort (issue 12):
a move the rules allow that loses the answer is labelled from the state, not announced.

Each case is a hand-made trace: right moves, then a legal move that is wrong (a slip, a
forgotten carry, an early take), then more moves. The env must label the wrong move as
``first_error_step``, store the believed state as its observation (no verdict), and accept
the right moves before it."""

from __future__ import annotations

import random

import pytest

from stores.schema import Action, Policy, Task
from synth.episode import run_episode
from synth.reasoning.base import ScriptTeacher, judge
from synth.registry import get_family
from tests.factories import RUN_A

ARITHMETIC = {
    "story": "Ana buys 3 pens at $0.25 each. She uses a $0.10 coupon.",
    "asks": "the price after the coupon",
    "given": [["qty", "3", "pens"], ["price", "0.25", "$"], ["coupon", "0.1", "$"]],
    "program": [["cost", "*", "qty", "price", "$", "the cost of the pens"], ["after", "-", "cost", "coupon", "$", "the price after the coupon"]],
}
# (family, problem, right moves, the legal wrong move, a move after it)
CASES = {
    "arithmetic": (ARITHMETIC, [], {"name": "cost", "op": "*", "args": ["qty", "price"], "value": "0.8"},  # 3 x 0.25 slipped
                   {"name": "after", "op": "-", "args": ["cost", "coupon"], "value": "0.7"}),
    "cryptarithm": ({"addends": ["AB", "CD"], "result": "EF"}, [{"letter": "B", "digit": 2}, {"letter": "D", "digit": 5}],
                    {"letter": "F", "digit": 8},  # 2+5 read as 8
                    {"letter": "A", "digit": 1}),
    "game24": ({"numbers": [2, 3, 4, 1], "target": 24}, [{"a": 4, "op": "*", "b": 3, "result": 12}],
               {"a": 12, "op": "*", "b": 2, "result": 25},  # 12 x 2 slipped
               {"a": 25, "op": "-", "b": 1, "result": 24}),
    "lis": ({"seq": [3, 1, 4, 1, 5, 9, 2, 6]}, [{"i": 0, "length": 1, "prev": None}, {"i": 1, "length": 1, "prev": None},
                                               {"i": 2, "length": 2, "prev": 0}, {"i": 3, "length": 1, "prev": None}],
            {"i": 4, "length": 2, "prev": 0},  # greedy: a[0]=3 < 5, but a[2]=4 has the longer run
            {"i": 5, "length": 3, "prev": 4}),
    "topo_sort": ({"theme": "build", "tasks": ["A", "B", "C", "D", "E"], "edges": [["A", "C"], ["B", "C"], ["B", "E"], ["C", "D"]]},
                  [{"node": "A"}], {"node": "C"},  # B -> C overlooked
                  {"node": "B"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_error_is_the_legal_but_wrong_move(name):
    family = get_family(name)
    problem, right, wrong, after_it = CASES[name]
    task = Task(f"{name}-hand-made", name, family.describe(problem), 1, None, problem, 0)
    search = family.search(task.id, problem)
    state = family.start(problem)
    for move in right:
        state, broken, ok, sound = judge(family, problem, search, state, True, move)
        assert (broken, ok, sound) == (None, True, True), move
    believed, broken, ok, sound = judge(family, problem, search, state, True, wrong)
    assert (broken, ok, sound) == (None, False, False), "a legal move the state shows wrong"
    later = family.apply(problem, believed, after_it)
    assert later[1] is None, "the move after it is legal too"

    action = family.action
    script = [("read", Action("think", {"stage": "read"})), *[("right", Action(action, m)) for m in right],
              ("wrong", Action(action, wrong)), ("on", Action(action, after_it)),
              ("answer", Action("answer", {"answer": family.read_off(problem, later[0])}))]
    t = run_episode("reasoning", task, family.make_env(task, {}), ScriptTeacher(Policy("t", "noisy"), script), RUN_A).trajectory
    wrong_at = 1 + len(right)
    assert t.first_error_step == wrong_at
    assert t.steps[wrong_at].observation.text == family.observe(problem, believed)  # the believed state, no verdict
    assert not t.outcome.success


@pytest.mark.parametrize("name", sorted(CASES))
def test_most_mistakes_are_legal_and_rejected_by_the_state(name):
    """Over a sweep of tasks, the reflective and noisy tiers' mistakes are mostly legal moves
    (no broken rule) that the env's judge still rejects."""
    family = get_family(name)
    legal = total = 0
    for seed in range(6):
        for difficulty in (1, 3, 5):
            task = family.make_task(seed, difficulty, {})
            for tier in ("reflective", "noisy"):
                params = family.make_teacher(tier, task, random.Random(seed), {}).policy.params
                if params.get("mistake") is None:
                    continue
                total += 1
                legal += params["legal"]
    assert total >= 30 and legal / total >= 0.6, (legal, total)
