"""The game families (hanoi, sliding, sokoban): verifiers by replay, solvers that are optimal,
traces that state the search's real checks, and answers parsed tolerantly but strictly.

The conformance suite (test_reasoning_families.py) checks the shared contract; these tests pin
each family's own rules on hand-made problems whose answers are known.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import deque

import pytest

from synth.episode import run_episode
from synth.reasoning import hanoi, sliding, sokoban
from synth.registry import get_family
from tests.factories import RUN_A


def _episode(family, seed: int, difficulty: int, tier: str):
    task = family.make_task(seed, difficulty, {})
    teacher = family.make_teacher(tier, task, random.Random(seed), {})
    return run_episode("reasoning", task, family.make_env(task, {}), teacher, RUN_A).trajectory


@pytest.mark.parametrize("name", ["hanoi", "sliding", "sokoban"])
def test_noisy_answers_fail_naming_the_illegal_move(name):
    """Hanoi and sliding mistakes break a rule (every legal move there can still be completed),
    and the answer keeps the illegal move; a sokoban mistake is a dead push (legal: the answer
    leaves a box off the goals) or a push into a wall or box."""
    family = get_family(name)
    for seed in range(6):
        t = _episode(family, seed, 1, "noisy")
        assert not t.outcome.success
        if t.policy.params["legal"]:
            assert name == "sokoban" and "off the goals" in t.outcome.detail, t.outcome.detail
        else:
            assert t.outcome.detail.startswith("move "), t.outcome.detail
            assert t.policy.params["broken_rule"]


@pytest.mark.parametrize("name", ["hanoi", "sliding", "sokoban"])
def test_expert_gold_is_what_the_env_replayed(name):
    """The answer the expert gives is read off its own trace: the moves it applied, in order."""
    family = get_family(name)
    for seed in range(6):
        task = family.make_task(seed, 2, {})
        search = family.search(task.id, task.env)
        state = family.replay(task.env, search.steps)[-1]
        assert family.read_off(task.env, state) == search.answer == task.reference["answer"]


# ---------------------------------------------------------------------------- hanoi

HANOI = {"n": 3, "start": "AAA", "goal": "CCC"}


def _hanoi_distance(n: int, start: tuple[int, ...], goal: tuple[int, ...]) -> int:
    seen, frontier = {start: 0}, deque([start])
    while frontier:
        pos = frontier.popleft()
        if pos == goal:
            return seen[pos]
        for disk, dst in itertools.product(range(1, n + 1), range(3)):
            if dst != pos[disk - 1] and hanoi._illegal(pos, disk, pos[disk - 1], dst) is None:
                nxt = pos[: disk - 1] + (dst,) + pos[disk:]
                if nxt not in seen:
                    seen[nxt] = seen[pos] + 1
                    frontier.append(nxt)
    raise AssertionError("unreachable")


def test_hanoi_classic_answers_and_tolerant_parsing():
    family = get_family("hanoi")
    assert family.solve(HANOI).answer == "1A>C 2A>B 1C>B 3A>C 1B>A 2B>C 1A>C"
    assert family.verify(HANOI, "1A>C 2A>B 1C>B 3A>C 1B>A 2B>C 1A>C") == (True, "7 legal move(s) reach the goal configuration")
    assert family.verify(HANOI, "a->c, a->b; c->b  A -> C\nb>a B>C 1:a>c")[0]
    longer = "1A>B 1B>A 1A>C 2A>B 1C>B 3A>C 1B>A 2B>C 1A>C"  # a wasted pair first
    assert family.verify(HANOI, longer) == (True, "9 legal move(s) reach the goal configuration")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("1A>C 2A>C", "move 2 (2A>C): disk 2 cannot go onto the smaller disk 1 on C"),
        ("2A>B", "move 1 (2A>B): disk 2 is under disk 1 on A, so it is not the top disk"),
        ("1B>C", "move 1 (1B>C): disk 1 is on A, not on B"),
        ("1A>C B>C", "move 2 (B>C): peg B is empty"),
        ("4A>C", "move 1 (4A>C): there is no disk 4 (disks 1..3)"),
        ("1A>A", "move 1 (1A>A): disk 1 would move from A to the same peg"),
        ("1A>C 1C>A", "after 2 legal move(s) the pegs are A: 3 2 1, B: empty, C: empty, not the goal (disk 3 is on A, the goal has it on C)"),
        ("1A>C foo", "move 2: 'FOO' is not a move like 1A>C or A>C"),
        ("  ", "no moves given"),
    ],
)
def test_hanoi_wrong_answers_fail_with_the_reason(answer, reason):
    assert get_family("hanoi").verify(HANOI, answer) == (False, reason)


def test_hanoi_solver_is_optimal_and_prices_both_ways():
    family = get_family("hanoi")
    twice = None
    for start, goal in itertools.product(itertools.product("ABC", repeat=3), repeat=2):
        if start == goal:
            continue
        problem = {"n": 3, "start": "".join(start), "goal": "".join(goal)}
        search = family.solve(problem)
        assert family.verify(problem, search.answer)[0]
        assert search.stats["moves"] == _hanoi_distance(3, hanoi._pegs(problem["start"]), hanoi._pegs(problem["goal"]))
        if search.stats["double_moves"] and twice is None:
            twice = search
    rng = random.Random(0)
    for _ in range(40):
        problem = family.generate(rng, n=5)
        moves = family.solve(problem).stats["moves"]
        assert moves == _hanoi_distance(5, hanoi._pegs(problem["start"]), hanoi._pegs(problem["goal"]))
    # some start/goal pairs are shorter with the largest disk moved twice, and the trace says why
    assert twice is not None
    assert any(re.search(r"[Tt]wice|via", s.text) and s.kind == "think" for s in twice.steps)


def test_hanoi_trace_states_the_recursion_and_the_free_peg_checks():
    steps = get_family("hanoi").solve(HANOI).steps
    assert steps[0].kind == "think" and "disks 1-2" in steps[0].text and re.search(r"\b7\b", steps[0].text)  # the once price, 3+1+3
    first = steps[1]
    assert first.move == {"disk": 1, "from": "A", "to": "C"}
    assert "disk 2" in first.text and "disk 1" in first.text.lower()  # the recursion that asks for it
    assert re.search(r"C is empty|nothing is on C|C is free|C holds no disk|onto C is clear", first.text), first.text
    assert "disk 2" in steps[-1].text  # the larger disk it goes onto


def test_hanoi_apply_carries_out_a_blunder_and_names_it():
    family = get_family("hanoi")
    state = family.start(HANOI)
    state, broken = family.apply(HANOI, state, {"disk": 1, "from": "A", "to": "C"})
    assert broken is None
    state, broken = family.apply(HANOI, state, {"disk": 2, "from": "A", "to": "C"})
    assert broken == "disk 2 cannot go onto the smaller disk 1 on C"
    assert state[0] == (2, 2, 0) and family.read_off(HANOI, state) == "1A>C 2A>C"
    assert family.apply(HANOI, state, {"disk": 9, "from": "A", "to": "C"})[1].startswith("a move names a disk 1..3")


# ---------------------------------------------------------------------------- sliding

ONE_OFF = {"rows": 3, "cols": 3, "board": [1, 2, 3, 4, 0, 6, 7, 5, 8]}  # slide 5 up, then 8 left


def _sliding_distance(problem) -> int:
    geo = sliding._geometry(problem["rows"], problem["cols"])
    start = tuple(problem["board"])
    seen, frontier = {start: 0}, deque([start])
    while frontier:
        board = frontier.popleft()
        if board == geo.goal:
            return seen[board]
        blank = board.index(0)
        for _, cell in geo.moves[blank]:
            nxt = sliding._slide(board, cell, blank)
            if nxt not in seen:
                seen[nxt] = seen[board] + 1
                frontier.append(nxt)
    raise AssertionError("unreachable")


@pytest.mark.parametrize("answer", ["5 8", "D R", "dr", "down, right", "5,R", "  5 ;  8 "])
def test_sliding_accepts_tiles_and_blank_moves(answer):
    assert get_family("sliding").verify(ONE_OFF, answer) == (True, "2 legal slide(s) reach the goal")


@pytest.mark.parametrize("answer", ["D R U D", "5 8 6 6", "L R D R"])
def test_sliding_accepts_a_longer_detour(answer):
    assert get_family("sliding").verify(ONE_OFF, answer) == (True, "4 legal slide(s) reach the goal")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("3", "move 1 (3): tile 3 at (0,2) is not next to the blank at (1,1)"),
        ("D R R", "move 3 (R): the blank at (2,2) cannot move right, it is on the edge"),
        ("9", "move 1 (9): there is no tile 9 (tiles 1..8)"),
        ("5", "after 1 legal move(s) the board is 1 2 3 / 4 5 6 / 7 _ 8, not the goal (1 tile(s) out of place)"),
        ("5 x", "'x' is not a tile number or a blank move (U, D, L, R)"),
        ("udx", "'udx' is not a tile number or a blank move (U, D, L, R)"),
        ("", "no moves given"),
    ],
)
def test_sliding_wrong_answers_fail_with_the_reason(answer, reason):
    assert get_family("sliding").verify(ONE_OFF, answer) == (False, reason)


def test_sliding_ida_star_is_optimal_and_its_bound_is_the_answer_length():
    family = get_family("sliding")
    rng = random.Random(1)
    for _ in range(5):
        problem = family.generate(rng, rows=3, cols=3, scramble=18)
        search = family.solve(problem)
        record = sliding._search(3, 3, tuple(problem["board"]))
        assert record.bound == search.stats["moves"] == len(search.answer.split()) == _sliding_distance(problem)
        rounds = [s.text for s in search.steps if s.kind == "think"]
        assert len(rounds) == len(record.rounds) + 1
        assert f"ound {record.bound}" in rounds[-1]
        for text, rnd in zip(rounds, record.rounds, strict=False):
            assert str(rnd.bound) in text and str(rnd.next) in text and str(rnd.nodes) in text  # the evidence for raising it


def test_sliding_trace_states_f_values_and_its_backtracks_are_real():
    family = get_family("sliding")
    traced = 0
    for seed in range(40):
        task = family.make_task(seed, 2, {})
        search = family.search(task.id, task.env)
        geo = sliding._geometry(task.env["rows"], task.env["cols"])
        stack = family.replay(task.env, [])
        for step in search.steps:
            if step.kind == "apply" and "g = " in step.text:
                board = stack[-1][0]
                h = sliding._manhattan(geo, sliding._slide(board, board.index(step.move["tile"]), board.index(0)))
                g = len(stack)  # moves in force after this one
                t = step.move["tile"]
                assert re.search(rf"\b{t}(?: gives f = |: f = ){g}\+{h} = {g + h}\b|\b{t} gives {g + h} \({g}\+{h}\)|\b{t} makes f = {g} \+ {h} = {g + h}\b",
                                 step.text), step.text
            if step.kind == "backtrack":
                traced += 1
                assert str(search.stats["bound"]) in step.text
            if step.kind == "apply":
                stack = [*stack, family.apply(task.env, stack[-1], step.move)[0]]
            elif step.kind == "backtrack":
                stack = stack[: step.depth + 1]
    assert traced > 0, "some level-2 searches back track"


def test_sliding_budget_gives_up_on_an_unsolvable_board():
    record = sliding._search(3, 3, (2, 1, 3, 4, 5, 6, 7, 8, 0))
    assert record is None or not record.line


# ---------------------------------------------------------------------------- sokoban

LINE = {"rows": ["#######", "#-----#", "#-@$-.#", "#-----#", "#######"]}  # push right twice
CORNER = {"rows": ["######", "#-$-.#", "#@---#", "######"]}
PAIR = {"rows": ["#######", "#-----#", "#@$$..#", "#-----#", "#######"]}


@pytest.mark.parametrize("answer", ["RR", "rr", "R R", "right, right", "r,R"])
def test_sokoban_accepts_formats(answer):
    assert get_family("sokoban").verify(LINE, answer) == (True, "2 legal move(s) leave every box on a goal")


@pytest.mark.parametrize("answer", ["LRRR", "RUDR", "UDRR"])
def test_sokoban_accepts_other_solutions(answer):
    assert get_family("sokoban").verify(LINE, answer) == (True, f"{len(answer)} legal move(s) leave every box on a goal")


@pytest.mark.parametrize(
    ("problem", "answer", "reason"),
    [
        (LINE, "UU", "move 2 (U): the player at (1,2) walks up into the wall at (0,2)"),
        (LINE, "RRR", "move 3 (R): the box at (2,5) cannot be pushed right into the wall at (2,6)"),
        (PAIR, "R", "move 1 (R): the box at (2,2) cannot be pushed right into the box at (2,3)"),
        (LINE, "R", "after 1 move(s) 1 box(es) are off the goals, at (2,4)"),
        (LINE, "RX", "'rx' is not a move (U, D, L, R)"),
        (LINE, "R 2", "'2' is not a move (U, D, L, R)"),
        (LINE, ",", "no moves given"),
    ],
)
def test_sokoban_wrong_answers_fail_with_the_reason(problem, answer, reason):
    assert get_family("sokoban").verify(problem, answer) == (False, reason)


def test_sokoban_trace_checks_dead_squares_and_walks_to_each_push():
    search = get_family("sokoban").solve(CORNER)
    assert search.answer == "URR" and search.stats["pushes"] == 2
    first = search.steps[1]
    assert first.move == {"moves": "UR"}
    assert "box (1,2) left" in first.text and "(1,1) is a corner that is not a goal" in first.text
    assert re.search(r"box \(1,2\) right(?: gives f = |: f = )1\+1 = 2|box \(1,2\) right gives 2 \(1\+1\)", first.text), first.text
    assert "(1,1)" in first.text and re.search(r"\bU\b", first.text) and "push R" in first.text or "then R" in first.text


def test_sokoban_dead_push_is_legal_and_the_first_error():
    """Pushing the box into the corner breaks no rule but loses the room: the env flags it."""
    from stores.schema import Action, Policy
    from synth.episode import run_episode
    from synth.reasoning.base import ScriptTeacher

    family = get_family("sokoban")
    task = family.make_task(0, 1, {})
    task = type(task)(task.id, task.family, family.describe(CORNER), 1, {"answer": "URR"}, CORNER, 0)
    moves = _dead_push(family, CORNER)
    assert family.apply(CORNER, family.start(CORNER), {"moves": moves})[1] is None
    script = [("r", Action("think", {"stage": "read"})), ("push", Action("move", {"moves": moves})), ("a", Action("answer", {"answer": moves}))]
    t = run_episode("reasoning", task, family.make_env(task, {}), ScriptTeacher(Policy("t", "expert"), script), RUN_A).trajectory
    assert t.first_error_step == 1 and not t.outcome.success


def _dead_push(family, problem) -> str:
    """A legal walk and push that puts a box on a dead square of the room."""
    from synth.reasoning.sokoban import _room, _walk

    room = _room(tuple(problem["rows"]))
    came = room.reach(room.player, room.boxes)
    for box in sorted(room.boxes):
        for d, step in room.delta.items():
            if box - step in came and box + step in room.floor and box + step not in room.boxes and box + step not in room.dist:
                return _walk(came, box - step) + d
    raise AssertionError("no dead push in this room")


def test_sokoban_env_stops_at_the_illegal_step_and_keeps_it_in_the_answer():
    family = get_family("sokoban")
    state = family.start(LINE)
    after, broken = family.apply(LINE, state, {"moves": "RRR"})
    assert broken == "step 3 of RRR (R): the box at (2,5) cannot be pushed right into the wall at (2,6)"
    assert after[0] == 2 * 7 + 4 and after[1] == frozenset({2 * 7 + 5})  # two steps done, the third not
    assert family.read_off(LINE, after) == "RRR"
    assert family.apply(LINE, state, {"moves": "RX"})[1].startswith("a move is a non-empty string of U, D, L and R")


def _fewest_pushes(rows: list[str]) -> int:
    """Breadth-first over (boxes, the player's area): the fewest pushes, by brute force."""
    room = sokoban._room(tuple(rows))
    start = (room.boxes, min(room.reach(room.player, room.boxes)))
    seen, frontier = {start: 0}, deque([(room.boxes, room.player)])
    while frontier:
        boxes, player = frontier.popleft()
        pushes = seen[(boxes, min(room.reach(player, boxes)))]
        if boxes <= room.goals:
            return pushes
        came = room.reach(player, boxes)
        for box, step in itertools.product(boxes, room.delta.values()):
            beyond = box + step
            if box - step in came and beyond in room.floor and beyond not in boxes:
                moved = (boxes - {box}) | {beyond}
                key = (moved, min(room.reach(box, moved)))
                if key not in seen:
                    seen[key] = pushes + 1
                    frontier.append((moved, box))
    raise AssertionError("unsolvable")


@pytest.mark.parametrize("difficulty", [1, 2])
def test_sokoban_rooms_are_solvable_and_the_search_finds_the_fewest_pushes(difficulty):
    family = get_family("sokoban")
    for seed in range(10):
        task = family.make_task(seed, difficulty, {})
        room = sokoban._room(tuple(task.env["rows"]))
        assert room.boxes != room.goals and len(room.boxes) == len(room.goals) == difficulty
        assert family.verify(task.env, task.reference["answer"])[0]
        assert task.reference["pushes"] == _fewest_pushes(task.env["rows"]) >= room.h(room.boxes)
