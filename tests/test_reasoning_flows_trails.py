"""The euler_path and max_flow families: verifiers (any valid answer passes, each invalid one
fails naming what broke), the rules of moves, the solvers' recorded searches and the blunders.

The conformance suite (test_reasoning_families.py) checks the shared contract; these tests pin
the family-specific content on hand-made graphs whose answers are worked out by hand.
"""

from __future__ import annotations

import random
import re

import pytest

from synth.reasoning.base import judge
from synth.reasoning.phrasing import Voice
from synth.registry import get_family

EULER = get_family("euler_path")
FLOW = get_family("max_flow")

# A triangle 0-2-3 with a pendant edge 0-1: odd vertices 0 and 1. The lowest-first search from
# 0 takes the bridge 0-1 first, strands the triangle and has to back up.
KITE = {"n": 4, "edges": [[0, 1], [0, 2], [0, 3], [2, 3]]}

# A house with one diagonal: odd vertices 1 and 2, many Eulerian trails.
HOUSE = {"n": 5, "edges": [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [1, 4], [2, 3]]}

# Max flow 5 (all of s's capacity); a->b may carry 1 or 2, so there are two maximum flows.
DIAMOND = {"nodes": ["s", "a", "b", "t"], "edges": [["s", "a", 3], ["s", "b", 2], ["a", "b", 2], ["a", "t", 2], ["b", "t", 4]]}
DIAMOND_GOLD = "value 5; s->a 3, s->b 2, a->b 1, a->t 2, b->t 3"

# The shortest path s a b t takes a->b, which the second path must cancel: s c b a d t.
TRAP = {
    "nodes": ["s", "a", "b", "c", "d", "t"],
    "edges": [["s", "a", 2], ["s", "c", 2], ["a", "b", 2], ["a", "d", 2], ["b", "t", 2], ["c", "b", 2], ["d", "t", 2]],
}


# ---------------------------------------------------------------------------- euler_path


def test_euler_path_solver_backs_out_of_a_bridge_taken_too_early():
    search = EULER.solve(KITE)
    assert search.answer == "0 2 3 0 1"
    assert [s.kind for s in search.steps] == ["think", "apply", "backtrack", "apply", "apply", "apply", "apply"]
    assert re.search(r"0.3, 1.1, 2.2, 3.2", search.steps[0].text) and "0 and 1" in search.steps[0].text
    assert search.steps[1].move == {"from": 0, "to": 1}
    dead_end = search.steps[2]
    assert dead_end.depth == 0
    assert "0-2, 0-3, 2-3" in dead_end.text and "1" in dead_end.text
    assert search.steps[3].move == {"from": 0, "to": 2}
    assert search.stats == {"moves": 5, "backtracks": 1}
    assert EULER.verify(KITE, search.answer)[0]


@pytest.mark.parametrize("answer", ["0 2 3 0 1", "0 3 2 0 1", "1 0 2 3 0", "1 0 3 2 0"])
def test_euler_path_any_trail_passes(answer):
    assert EULER.verify(KITE, answer) == (True, f"a trail from {answer[0]} to {answer[-1]} that uses each of the 4 edges exactly once")


@pytest.mark.parametrize("answer", ["1 4 0 1 2 0 3 2", "1 2 3 0 4 1 0 2", "2 0 1 4 0 3 2 1"])
def test_euler_path_other_trails_than_the_solvers_pass(answer):
    assert EULER.solve(HOUSE).answer != answer
    assert EULER.verify(HOUSE, answer)[0]


@pytest.mark.parametrize(
    "answer", ["0, 2, 3, 0, 1", "0-2-3-0-1", "0 -> 2 -> 3 -> 0 -> 1", "[0 2 3 0 1]", "  0 2\n3\t0 1 ", "0→2→3→0→1"]
)
def test_euler_path_parsing_is_tolerant_of_separators(answer):
    assert EULER.verify(KITE, answer)[0], answer


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("0 1 0 2 3 0", "step 2: edge 1-0 is used a second time"),
        ("0 2 1", "step 2: 2-1 is not an edge"),
        ("0 2 3 0", "1 edge(s) never used: 0-1"),
        ("2 3 0 1", "1 edge(s) never used: 0-2"),
        ("0 1", "3 edge(s) never used: 0-2, 0-3, 2-3"),
        ("0 2 x 0 1", "'x' is not a vertex (0..3)"),
        ("0 2 3 0 7", "'7' is not a vertex (0..3)"),
        ("0 2 3 0 1..", "'1..' is not a vertex (0..3)"),
        ("", "no vertices given"),
    ],
)
def test_euler_path_wrong_answers_fail_naming_the_edge(answer, reason):
    assert EULER.verify(KITE, answer) == (False, reason)


def test_euler_path_moves_follow_the_trail_rules():
    start = EULER.start(KITE)
    state, broken = EULER.apply(KITE, start, {"from": 0, "to": 2})
    assert broken is None and state == ((0, 2), 0b0010)
    # starting at an even vertex breaks no rule, but no trail can then use every edge: the
    # env's state rule (Euler's theorem on the unused edges) flags it
    search = EULER.solve(KITE)
    assert EULER.apply(KITE, start, {"from": 2, "to": 3})[1] is None
    assert not judge(EULER, KITE, search, start, True, {"from": 2, "to": 3})[2]
    assert judge(EULER, KITE, search, start, True, {"from": 1, "to": 0})[2], "the other odd end is a fine start"
    assert judge(EULER, KITE, search, start, True, {"from": 0, "to": 1})[2], "the search's own try, a bridge, is a branch"
    # carried out where possible, so later steps are checked against the state really built
    assert EULER.apply(KITE, state, {"from": 2, "to": 1}) == (((0, 2, 1), 0b0010), "there is no edge 2-1")
    assert EULER.apply(KITE, state, {"from": 2, "to": 0}) == (((0, 2, 0), 0b0010), "edge 2-0 is already used")
    assert EULER.apply(KITE, state, {"from": 3, "to": 0}) == (state, "the trail stands at 2, so the next edge must start there, not at 3")
    assert EULER.apply(KITE, state, {"from": 2, "to": 9})[1].startswith("a move names two vertices")
    assert EULER.read_off(KITE, state) == "0 2"


def test_euler_path_blunders_are_rule_breaks_the_env_flags():
    search = EULER.solve(KITE)
    m = EULER.mistake(KITE, EULER.start(KITE), search, Voice(random.Random(0)), random.Random(0))
    assert m.move["from"] in (2, 3) and m.kind == "forgotten" and EULER.apply(KITE, EULER.start(KITE), m.move)[1] is None
    mid = EULER.replay(KITE, search.steps[:5])[-1]  # at 3 after 0 2 3
    kinds = set()
    for seed in range(20):
        m = EULER.mistake(KITE, mid, search, Voice(random.Random(seed)), random.Random(seed))
        kinds.add(EULER.apply(KITE, mid, m.move)[1])
    assert kinds == {"edge 3-2 is already used", "there is no edge 3-1"}


def test_euler_path_noisy_answers_are_complete_walks_that_fail():
    for seed in range(40):
        task = EULER.make_task(seed, 1 + seed % 3, {})
        teacher = EULER.make_teacher("noisy", task, random.Random(seed), {})
        answer = teacher.script[-1][1].arguments["answer"]
        ok, reason = EULER.verify(task.env, answer)
        assert not ok and reason, (seed, answer)


def test_euler_path_traces_stay_short_up_to_level_3():
    lengths = [len(EULER.solve(EULER.make_task(seed, 3, {}).env).steps) for seed in range(60)]
    assert max(lengths) < 60


# ---------------------------------------------------------------------------- max_flow


def test_max_flow_solver_is_edmonds_karp_with_its_bottlenecks_and_cut():
    search = FLOW.solve(DIAMOND)
    assert search.answer == DIAMOND_GOLD
    moves = [s.move for s in search.steps if s.kind == "apply"]
    assert moves == [
        {"path": ["s", "a", "t"], "amount": 2},
        {"path": ["s", "b", "t"], "amount": 2},
        {"path": ["s", "a", "b", "t"], "amount": 1},
    ]
    texts = [s.text for s in search.steps]
    assert "min(3, 2)" in texts[0] and re.search(r"\b2\b", texts[0])
    assert "min(1, 2, 2)" in texts[4]
    assert re.search(r"s->a(?: now|:)? 3(?: of |/)3", texts[5]) and "a->b" in texts[5] and "b->t" in texts[5] and "5" in texts[5]
    assert "nothing is reachable from s" in texts[6]
    assert "3 + 2 = 5" in texts[7]
    assert search.stats == {"augmentations": 3, "value": 5}


def test_max_flow_solver_cancels_flow_along_a_reverse_edge():
    search = FLOW.solve(TRAP)
    second = [s for s in search.steps if s.kind == "apply"][1]
    assert second.move == {"path": ["s", "c", "b", "a", "d", "t"], "amount": 2}
    assert "b->a 2 (cancels flow on a->b)" in second.text
    assert search.answer == "value 4; s->a 2, s->c 2, a->b 0, a->d 2, b->t 2, c->b 2, d->t 2"
    assert FLOW.verify(TRAP, search.answer)[0]


@pytest.mark.parametrize(
    "answer",
    [
        DIAMOND_GOLD,
        "value 5; s->a 3, s->b 2, a->b 2, a->t 1, b->t 4",  # the other maximum flow
        "VALUE: 5\nS -> A = 3\nS→B: 2\na-b 1; a>t 2, b->t 3.",
        "max flow = 5; flows: s->a 3, s->b 2, a->b 1, a->t 2, b->t 3",
        "value 5 s->a 3 s->b 2 a->b 2 a->t 1 b->t 4",
    ],
)
def test_max_flow_any_maximum_flow_passes(answer):
    assert FLOW.verify(DIAMOND, answer) == (True, "a feasible flow (capacities and conservation hold) of value 5, the maximum")


def test_max_flow_edges_left_out_carry_zero():
    assert FLOW.verify(TRAP, "value 4; s->a 2, s->c 2, a->d 2, b->t 2, c->b 2, d->t 2")[0]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("value 4; s->a 2, s->b 2, a->t 2, b->t 2", "value 4 < maximum 5"),
        ("value 6; s->a 4, s->b 2, a->b 2, a->t 2, b->t 4", "s->a carries 4, over its capacity 3"),
        ("value 5; s->a 3, s->b 2, a->b -1, a->t 2, b->t 3", "a->b carries -1, below 0"),
        ("value 5; s->a 3, s->b 2, a->t 2, b->t 3", "flow is not conserved at a: 3 in, 2 out"),
        ("value 6; " + DIAMOND_GOLD[9:], "the value 6 is not the net flow out of s, which is 5"),
        ("value 5; s->t 5", "s->t is not an edge"),
        ("value 5; b->a 1", "b->a is not an edge (the edge is a->b)"),
        ("value 5; x->t 1", "'x' is not a node (s, a, b, t)"),
        ("value 5; s->a 3, s->a 3", "s->a is listed twice"),
        ("value 5; value 5", "the value is given twice"),
        ("s->a 3, s->b 2, a->b 1, a->t 2, b->t 3", "no flow value given ('value N')"),
        (DIAMOND_GOLD + " hello", "cannot read 'hello': expected 'value N' or an edge and its flow such as 's->a 4'"),
        ("value 5; s->a three", "cannot read 's->a': expected 'value N' or an edge and its flow such as 's->a 4'"),
    ],
)
def test_max_flow_wrong_answers_fail_naming_the_constraint(answer, reason):
    assert FLOW.verify(DIAMOND, answer) == (False, reason)


def test_max_flow_moves_are_augmentations_up_to_the_bottleneck():
    zero = FLOW.start(DIAMOND)
    assert FLOW.apply(DIAMOND, zero, {"path": ["s", "a", "t"], "amount": 1}) == ((1, 0, 0, 1, 0), None)
    state, broken = FLOW.apply(DIAMOND, zero, {"path": ["s", "a", "t"], "amount": 2})
    assert broken is None and state == (2, 0, 0, 2, 0)
    assert FLOW.apply(DIAMOND, state, {"path": ["s", "a", "t"], "amount": 1}) == ((3, 0, 0, 3, 0), "edge a->t is saturated (2 of 2 used)")
    assert FLOW.apply(DIAMOND, state, {"path": ["s", "a", "b", "t"], "amount": 2})[1] == "edge s->a has 1 unit(s) of capacity left, less than 2"
    assert FLOW.apply(DIAMOND, state, {"path": ["s", "b", "a", "t"], "amount": 1})[1] == (
        "the backward hop b->a would cancel 1 unit(s) of flow on a->b, which carries 0"
    )
    assert FLOW.apply(DIAMOND, state, {"path": ["s", "t"], "amount": 1}) == (state, "there is no edge between s and t in either direction")
    assert FLOW.apply(DIAMOND, state, {"path": ["a", "t"], "amount": 1}) == (state, "an augmenting path runs from s to t, not from a to t")
    assert FLOW.apply(DIAMOND, state, {"path": ["s", "a", "b", "a", "t"], "amount": 1})[1] == (
        "an augmenting path visits each node once, but a appears twice"
    )
    assert FLOW.apply(DIAMOND, state, {"path": ["s", "a", "t"], "amount": 0})[1].startswith("a move gives 'path'")
    assert FLOW.read_off(DIAMOND, state) == "value 2; s->a 2, s->b 0, a->b 0, a->t 2, b->t 0"


def test_max_flow_backward_hops_cancel_flow():
    state = FLOW.apply(TRAP, FLOW.start(TRAP), {"path": ["s", "a", "b", "t"], "amount": 2})[0]
    after, broken = FLOW.apply(TRAP, state, {"path": ["s", "c", "b", "a", "d", "t"], "amount": 2})
    assert broken is None and after == (2, 2, 0, 2, 2, 2, 2)


def test_max_flow_blunders_misread_the_minimum_or_forget_the_flow():
    after_one = FLOW.apply(DIAMOND, FLOW.start(DIAMOND), {"path": ["s", "a", "t"], "amount": 2})[0]
    found = {}
    search = FLOW.solve(DIAMOND)
    for seed in range(20):
        m = FLOW.mistake(DIAMOND, after_one, search, Voice(random.Random(seed)), random.Random(seed))
        found[FLOW.apply(DIAMOND, after_one, m.move)[1]] = m
    slip = found["edge s->b has 2 unit(s) of capacity left, less than 4"]
    assert slip.move == {"path": ["s", "b", "t"], "amount": 4} and "min(2, 4)" in slip.thought and slip.kind == "slip"
    stale = found["edge s->a has 1 unit(s) of capacity left, less than 2"]
    assert stale.move == {"path": ["s", "a", "t"], "amount": 2} and "s->a 3, a->t 2" in stale.thought and stale.kind == "forgotten"
    assert len(found) == 2


def test_max_flow_noisy_answers_stay_wrong():
    for seed in range(40):
        task = FLOW.make_task(seed, 1 + seed % 3, {})
        teacher = FLOW.make_teacher("noisy", task, random.Random(seed), {})
        answer = teacher.script[-1][1].arguments["answer"]
        ok, reason = FLOW.verify(task.env, answer)
        assert not ok and "carries" in reason, (seed, answer, reason)


def test_max_flow_generated_networks_connect_every_node_from_s_to_t():
    for seed in range(30):
        problem = FLOW.make_task(seed, 1 + seed % 5, {}).env
        nodes, edges = problem["nodes"], problem["edges"]
        assert nodes[0] == "s" and nodes[-1] == "t"
        assert all(v != "s" and u != "t" for u, v, _ in edges)
        pairs = {(u, v) for u, v, _ in edges}
        assert not any((v, u) in pairs for u, v in pairs), "no antiparallel edges"
        for x in nodes[1:-1]:
            assert any(v == x for _, v, _ in edges) and any(u == x for u, _, _ in edges), (seed, x)
        assert all(1 <= c <= 9 for *_, c in edges)
