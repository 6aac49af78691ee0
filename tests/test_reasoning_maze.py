"""The maze family on the shared reasoning engine: exact replay verifier, step rules, real-search
traces, the four teacher tiers, and deterministic tables."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

from filters.dedup import exact_dedup
from stores.schema import Action, Trajectory, canonical_json, from_table, to_table, validate_table
from synth.episode import run_episode
from synth.generate import ShardSpec, generate_shard
from synth.reasoning.base import SCRIPTED_TIERS, ReasoningEnv
from synth.reasoning.maze import (
    SIZES,
    Maze,
    depth_first_search,
    family,
    fmt,
    generate_maze,
    parse_moves,
    verify_maze,
)
from synth.reasoning.phrasing import Voice
from synth.registry import get_family
from tests.factories import RUN_A, RUN_B

ROOT = Path(__file__).resolve().parents[1]
PROV, OTHER_PROV = RUN_A, RUN_B
MIXED = {"expert": 0.4, "reflective": 0.2, "noisy": 0.3, "random": 0.1}

# A hand-drawn 3x3 perfect maze: the solution is RRDLDR; (1,0)-(2,0) is a dead-end branch.
ROWS = [
    "#######",
    "#S....#",
    "#.###.#",
    "#.#...#",
    "#.#.###",
    "#.#..G#",
    "#######",
]
PROBLEM = {"rows": ROWS}


def shard(tiers, difficulties, start=0, stop=100, seed=7, prov=PROV):
    spec = ShardSpec("maze", seed, start, stop, tiers, tuple(difficulties))
    return generate_shard(spec, prov).trajectories


def replay(traj: Trajectory):
    """Re-run the recorded actions in a fresh env; yield (env before the step, step, accepted)."""
    env = family.make_env(traj.task, {})
    for step in traj.steps:
        assert canonical_json(env.accepted_actions()) == canonical_json(step.accepted_actions)
        ok = env.accepts(step.action)
        yield env, step, ok
        env.step(step.action)


def simple_path(maze: Maze) -> str:
    """Breadth-first search from S: the unique simple path of a perfect maze, found independently."""
    parent = {maze.start: None}
    queue = deque([maze.start])
    while queue:
        cell = queue.popleft()
        for d, nb in maze.exits(cell):
            if nb not in parent:
                parent[nb] = (cell, d)
                queue.append(nb)
    moves, link = [], parent[maze.goal]
    while link is not None:
        moves.append(link[1])
        link = parent[link[0]]
    return "".join(reversed(moves))


def without_provenance(table):
    return table.drop_columns(["provenance"]).to_pylist()


# ---------------------------------------------------------------------------- verifier


def test_verifier_accepts_any_walk_that_reaches_g():
    assert verify_maze(ROWS, "RRDLDR") == (True, "the 6 move(s) reach G (2,2)")
    for answer in (
        "DDUURRDLDR",  # detour into the dead end and back
        "RLRRDLDR",  # revisits S
        "right, right, Down, left, d, R",  # words, commas, mixed case
        "  r r d\tl d r\n",  # whitespace
        "RR,DL,DR",
    ):
        ok, reason = verify_maze(ROWS, answer)
        assert ok, (answer, reason)
        assert family.verify(PROBLEM, answer) == (ok, reason)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("DR", "move 2 of 2 (R) from (1,0) hits the wall between (1,0) and (1,1)"),
        ("U", "move 1 of 1 (U) from (0,0) leaves the maze through the top boundary"),
        ("RRDLDRR", "move 7 of 7 (R) from (2,2) leaves the maze through the right boundary"),
        ("RR", "the 2 move(s) end at (0,2), not at G (2,2)"),
        ("", "the 0 move(s) end at (0,0), not at G (2,2)"),
        ("R R X", "unknown token 'X' (token 3)"),
        ("north", "unknown token 'north' (token 1)"),
        ("R;R", "unknown token 'R;R' (token 1)"),
        (None, "no answer given"),
    ],
)
def test_verifier_rejects_with_a_reason(answer, reason):
    ok, why = verify_maze(ROWS, answer)
    assert not ok
    assert why.startswith(reason), why


def test_parse_moves_is_tolerant_of_form_and_strict_on_content():
    assert parse_moves("up, right, Down") == ["U", "R", "D"] == parse_moves("URD")
    assert parse_moves("LEFT left l L") == ["L"] * 4
    with pytest.raises(ValueError, match="unknown token 'upp'"):
        parse_moves("up upp")


def test_verifier_reads_every_maze_form():
    maze = Maze.from_rows(ROWS)
    for form in (maze, {"rows": ROWS}, ROWS, "\n".join(ROWS)):
        assert verify_maze(form, "RRDLDR")[0]
    with pytest.raises(TypeError):
        verify_maze(42, "R")


def test_drawing_round_trips_and_the_expert_finds_the_simple_path():
    maze = Maze.from_rows(ROWS)
    assert maze.rows() == ROWS
    assert (maze.size, maze.start, maze.goal) == (3, (0, 0), (2, 2))
    assert family.solve(PROBLEM).answer == simple_path(maze) == "RRDLDR"
    for bad in (ROWS[:-1], [r.replace("G", ".") for r in ROWS], [r[:-1] for r in ROWS]):
        with pytest.raises(ValueError):
            Maze.from_rows(bad)


# ---------------------------------------------------------------------------- rules


def test_a_step_is_legal_iff_no_wall_is_in_the_way():
    start = family.start(PROBLEM)
    assert start == ((0, 0), "")
    assert family.apply(PROBLEM, start, {"dir": "R"}) == (((0, 1), "R"), None)
    # off the grid: cannot be carried out, the state stays
    assert family.apply(PROBLEM, start, {"dir": "U"}) == (
        start, "moving up from (0,0) leaves the maze through the top boundary"
    )
    # through a wall: carried out, so a noisy walk goes on from where it really stands
    down = family.apply(PROBLEM, start, {"dir": "D"})[0]
    assert family.apply(PROBLEM, down, {"dir": "R"}) == (
        ((1, 1), "DR"), "moving right from (1,0) hits the wall between (1,0) and (1,1)"
    )
    for bad in ({"dir": "X"}, {"to": [0, 1]}, "R"):
        state, broken = family.apply(PROBLEM, start, bad)
        assert state == start and broken.startswith("a move names a direction")
    assert family.read_off(PROBLEM, ((2, 2), "RRDLDR")) == "RRDLDR"


def test_env_replays_moves_and_backtracks_through_the_rules():
    """The env judges every move by the rules and answers with where the walk now stands
    (never with a verdict): a move off the grid is not carried out, one through a wall is."""
    env = ReasoningEnv(family, PROBLEM, family.solve(PROBLEM))
    up = Action("move", {"dir": "U"})
    assert not env.accepts(up)
    assert env.step(up).text == "At (0,0). Openings: down and right."
    for _ in range(2):
        assert env.accepts(Action("move", {"dir": "D"}))
        env.step(Action("move", {"dir": "D"}))
    assert env.states[-1] == ((2, 0), "DD")
    assert env.step(Action("move", {"dir": "U"})).text == "At (1,0). Openings: up and down."
    back = Action("backtrack", {"depth": 0})
    assert env.accepts(back) and env.step(back).text == "At (0,0). Openings: down and right."
    assert not env.accepts(Action("backtrack", {"depth": 0}))  # nothing left to undo
    for d in "RRDLD":
        env.step(Action("move", {"dir": d}))
    assert env.step(Action("move", {"dir": "R"})).text == "At (2,2): reached G. Openings: left."
    assert not env.accepts(Action("answer", {"answer": "RR"}))
    assert env.accepts(Action("answer", {"answer": "RRDLDR"}))
    result = env.step(Action("answer", {"answer": "RRDLDR"}))
    assert result.done and result.reward == 1.0
    assert env.outcome("RRDLDR").success and env.outcome(None).detail == "no answer given"


def test_a_detour_is_no_error_and_a_wall_is():
    """In a perfect maze every legal walk can still reach G, so a detour into a dead end and
    back is accepted; the first step through a wall is the first error."""
    from stores.schema import Policy
    from synth.reasoning.base import ScriptTeacher

    task = family.make_task(0, 2, {})
    maze = Maze.from_rows(task.env["rows"])
    cell = maze.start
    wall = next(d for d in "UDLR" if not maze.is_open(cell, d) and maze.inside(maze.neighbour(cell, d)))
    exit_ = next(d for d, _ in maze.exits(cell))
    back = {"U": "D", "D": "U", "L": "R", "R": "L"}[exit_]
    script = [("r", Action("think", {"stage": "read"})), ("a", Action("move", {"dir": exit_})), ("b", Action("move", {"dir": back})),
              ("w", Action("move", {"dir": wall})), ("x", Action("answer", {"answer": exit_ + back + wall}))]
    t = run_episode("reasoning", task, family.make_env(task, {}), ScriptTeacher(Policy("t", "expert"), script), RUN_A).trajectory
    assert t.first_error_step == 3 and not t.outcome.success


def test_depth_first_search_records_its_real_dead_ends():
    maze = Maze.from_rows(ROWS)
    say = Voice(random.Random(0))
    steps = depth_first_search(maze, (maze.start, ""), say)  # tie at S: down (UDLR order) first, into the dead end
    assert [(s.kind, s.move, s.depth) for s in steps[:4]] == [
        ("apply", {"dir": "D"}, 0),
        ("apply", {"dir": "D"}, 0),
        ("backtrack", None, 0),
        ("apply", {"dir": "R"}, 0),
    ]
    assert "(2,0)" in steps[2].text and "(0,0)" in steps[2].text and "2 " in steps[2].text
    assert "(0,0)" in steps[3].text and "right" in steps[3].text and "(0,1)" in steps[3].text
    assert "".join(s.move["dir"] for s in steps[3:]) == "RRDLDR"
    # continued from a later state, backtrack depths count the moves already in force
    resumed = depth_first_search(maze, ((1, 0), "D"), say)
    assert resumed[1].kind == "backtrack" and resumed[1].depth == 1


# ---------------------------------------------------------------------------- mazes and tasks


@pytest.mark.parametrize("difficulty", sorted(SIZES))
def test_tasks_are_solvable_perfect_mazes_of_the_documented_size(difficulty):
    n = SIZES[difficulty]
    assert family.levels[difficulty] == {"size": n}
    for seed in range(20):
        task = family.make_task(seed, difficulty, {})
        maze = Maze.from_rows(task.env["rows"])
        assert len(task.env["rows"]) == 2 * n + 1 and maze.size == n
        assert task.reference["size"] == [n, n]
        assert (tuple(task.reference["start"]), tuple(task.reference["goal"])) == (maze.start, maze.goal)
        assert abs(maze.start[0] - maze.goal[0]) + abs(maze.start[1] - maze.goal[1]) >= n - 1
        assert sum(len(o) for o in maze.openings) == 2 * (n * n - 1)  # a spanning tree
        assert verify_maze(task.env, task.reference["answer"])[0]
        assert task.reference["answer"] == simple_path(maze)
        assert "\n".join(task.env["rows"]) in task.instruction
        assert task.id.startswith("maze-") and len(task.id) == len("maze-") + 16
        assert (task.difficulty, task.seed, task.family) == (difficulty, seed, "maze")


def test_same_seed_same_maze_and_identical_mazes_share_a_task_id():
    assert generate_maze(7, random.Random(3)) == generate_maze(7, random.Random(3))
    assert family.make_task(5, 3, {}) == family.make_task(5, 3, {})
    by_rows: dict[tuple[str, ...], list] = {}
    for seed in range(400):
        task = family.make_task(seed, 1, {})
        by_rows.setdefault(tuple(task.env["rows"]), []).append(task)
    assert len(by_rows) > 370  # 192 mazes times the S-G pairs, sampled uniformly
    repeated = next(tasks for tasks in by_rows.values() if len(tasks) > 1)
    assert repeated[0].id == repeated[1].id and repeated[0].seed != repeated[1].seed
    assert len({tasks[0].id for tasks in by_rows.values()}) == len(by_rows)


def test_bad_difficulty_and_tier_are_refused():
    with pytest.raises(ValueError, match="difficulty"):
        family.make_task(1, 6, {})
    with pytest.raises(ValueError, match="no 'oracle' teacher"):
        family.make_teacher("oracle", family.make_task(1, 1, {}), random.Random(0), {})


def test_family_is_registered():
    assert get_family("maze") is family
    assert (family.kind, family.name, family.group, family.version) == ("reasoning", "maze", "games", "2")
    assert set(SCRIPTED_TIERS) <= set(family.tiers)  # reflective is new in version 2


def test_render_draws_the_maze_and_the_path():
    image = family.render(PROBLEM, None, 128)
    assert image.size == (128, 128)
    assert family.render(PROBLEM, ((0, 2), "RR"), 128).tobytes() != image.tobytes()


# ---------------------------------------------------------------------------- teachers


@pytest.mark.parametrize("difficulty", sorted(SIZES))
def test_expert_always_succeeds_with_a_real_search_trace(difficulty):
    trajectories = from_table(shard({"expert": 1.0}, [difficulty], stop=60))
    backtracks = 0
    for t in trajectories:
        assert t.outcome.success and t.first_error_step == -1, t.outcome
        assert t.outcome.verifier == "maze-verifier"
        assert t.final_answer == t.task.reference["answer"] == simple_path(Maze.from_rows(t.task.env["rows"]))
        assert t.policy.tier == "expert" and t.policy.name == "maze-expert"
        assert [s.action.arguments.get("stage") for s in t.steps[:2]] == ["read", "plan"]
        assert t.steps[-2].action.arguments == {"stage": "verify"} and t.final_answer in t.steps[-2].thought
        for env, step, ok in replay(t):
            assert ok, (step.index, step.thought)
            cell = env.states[-1][0]
            if step.action.name == "backtrack":
                backtracks += 1
                target = env.states[step.action.arguments["depth"]][0]
                assert fmt(cell) in step.thought and fmt(target) in step.thought, step.thought
            elif step.action.name == "move":
                assert fmt(cell) in step.thought, step.thought
    if difficulty >= 2:
        assert backtracks > len(trajectories)  # real exploration, not a straight replay


def test_reflective_misreads_a_wall_then_rechecks_the_drawing():
    for t in from_table(shard({"reflective": 1.0}, [1, 2, 3], stop=40, seed=5)):
        assert t.outcome.success and t.final_answer == t.task.reference["answer"]
        k = t.first_error_step
        bad = t.steps[k]
        assert bad.action.name == "move" and t.policy.params["mistake_kind"] == "misread"
        assert "hits the wall between" in t.policy.params["broken_rule"]
        assert not bad.observation.text.startswith("Rule broken")
        catch = next(s for s in t.steps[k + 1 :] if s.action.name == "backtrack" and s.action.arguments["to_step"] < k)
        check = t.steps[catch.index - 1]
        assert f"step {k}" in check.thought and ("'#'" in check.thought or "wall" in check.thought or "no opening" in check.thought)
        assert all(ok for i, (_, _, ok) in enumerate(replay(t)) if i != k)


@pytest.mark.parametrize("difficulty", sorted(SIZES))
def test_noisy_fails_at_the_wall_it_walked_through(difficulty):
    for t in from_table(shard({"noisy": 1.0}, [difficulty], stop=40, seed=11)):
        assert not t.outcome.success
        ok, reason = verify_maze(t.task.env, t.final_answer)
        assert not ok and t.outcome.detail == reason and "hits the wall between" in reason
        verdicts = [ok for _, _, ok in replay(t)]
        k = t.first_error_step
        assert all(verdicts[:k]) and not verdicts[k]
        bad = t.steps[k]
        assert bad.action.name == "move" and not bad.observation.text.startswith("Rule broken")
        assert t.policy.params["broken_rule"].partition(" from ")[2] in reason  # the answer keeps the misread wall
        assert t.steps[-1].action.name == "answer" and t.steps[-1].reward == 0.0


def test_random_walker_answers_with_the_moves_in_force():
    trajectories = from_table(shard({"random": 1.0}, [1, 2, 3], stop=60, seed=3))
    for t in trajectories:
        env = family.make_env(t.task, {})
        for step in t.steps:
            env.step(step.action)
        cell, moves = env.states[-1]
        assert t.final_answer == moves  # boundary bumps are not carried out, walls are
        maze = Maze.from_rows(t.task.env["rows"])
        at, walls = maze.start, False
        for d in moves:
            walls |= not maze.is_open(at, d)
            at = maze.neighbour(at, d)
        assert t.outcome.success == (cell == maze.goal and not walls)
    assert sum(t.outcome.success for t in trajectories) < len(trajectories) / 2


# ---------------------------------------------------------------------------- tables


def test_generation_is_deterministic_across_runs():
    a = shard(MIXED, [1, 2, 3, 4, 5], stop=120)
    b = shard(MIXED, [1, 2, 3, 4, 5], stop=120, prov=OTHER_PROV)
    assert without_provenance(a) == without_provenance(b)
    assert a["provenance"].to_pylist() != b["provenance"].to_pylist()
    assert without_provenance(shard(MIXED, [1, 2], seed=8, stop=30)) != without_provenance(shard(MIXED, [1, 2], stop=30))


def test_generation_is_byte_identical_in_another_process():
    code = (
        "import hashlib, sys; sys.path.insert(0, '.');"
        "from tests.test_reasoning_maze import MIXED, digest, shard;"
        "print(digest(shard(MIXED, [1, 2, 3, 4, 5], stop=60)))"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(shard(MIXED, [1, 2, 3, 4, 5], stop=60))


def digest(table) -> str:
    return hashlib.sha256(canonical_json(without_provenance(table)).encode()).hexdigest()


def test_generated_tables_validate():
    table = shard(MIXED, [1, 2, 3, 4, 5], stop=300)
    validate_table(exact_dedup(table)[0])  # the pipeline deduplicates exact ids before publishing
    assert set(table["kind"].to_pylist()) == {"reasoning"}
    assert set(table["policy"].combine_chunks().field("tier").to_pylist()) == set(MIXED)


def test_trajectories_round_trip_through_rows_and_arrow():
    rng = random.Random(0)
    episodes = []
    for seed, tier in enumerate(list(SCRIPTED_TIERS) * 3):
        task = family.make_task(seed, seed % 5 + 1, {})
        teacher = family.make_teacher(tier, task, rng, {})
        episodes.append(run_episode("reasoning", task, family.make_env(task, {}), teacher, PROV))
    trajectories = [e.trajectory for e in episodes]
    for t in trajectories:
        assert Trajectory.from_row(t.to_row()) == t
    assert from_table(to_table(trajectories)) == trajectories
