"""The maze family: exact replay verifier, DFS environment, real-search traces, teacher tiers."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from pathlib import Path

import pytest

from stores.schema import (
    Action,
    Trajectory,
    canonical_json,
    from_table,
    to_table,
    validate_table,
)
from synth.episode import run_episode
from synth.generate import ShardSpec, generate_shard
from synth.reasoning.maze import (
    SIZES,
    Maze,
    MazeEnv,
    depth_first_search,
    family,
    fmt,
    generate_maze,
    parse_moves,
    shortest_path,
    verify_maze,
)
from synth.registry import get_family
from tests.factories import MIXED_TIERS, RUN_A, RUN_B

ROOT = Path(__file__).resolve().parents[1]
PROV, OTHER_PROV, MIXED = RUN_A, RUN_B, MIXED_TIERS

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


def test_drawing_round_trips_and_gold_path_is_shortest():
    maze = Maze.from_rows(ROWS)
    assert maze.rows() == ROWS
    assert (maze.size, maze.start, maze.goal) == (3, (0, 0), (2, 2))
    assert shortest_path(maze) == "RRDLDR"
    for bad in (ROWS[:-1], [r.replace("G", ".") for r in ROWS], [r[:-1] for r in ROWS]):
        with pytest.raises(ValueError):
            Maze.from_rows(bad)


# ---------------------------------------------------------------------------- mazes and tasks


@pytest.mark.parametrize("difficulty", sorted(SIZES))
def test_tasks_are_solvable_perfect_mazes_of_the_documented_size(difficulty):
    n = SIZES[difficulty]
    for seed in range(20):
        task = family.make_task(seed, difficulty, {})
        maze = Maze.from_rows(task.env["rows"])
        assert len(task.env["rows"]) == 2 * n + 1 and maze.size == n
        assert task.reference["size"] == [n, n]
        assert sum(len(o) for o in maze.openings) == 2 * (n * n - 1)  # a spanning tree
        assert verify_maze(task.env, task.reference["path"])[0]
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
    assert len(by_rows) > 150  # 3x3 grids have 192 perfect mazes; sampling is uniform
    repeated = next(tasks for tasks in by_rows.values() if len(tasks) > 1)
    assert repeated[0].id == repeated[1].id and repeated[0].seed != repeated[1].seed
    assert len({tasks[0].id for tasks in by_rows.values()}) == len(by_rows)


def test_bad_difficulty_and_tier_are_refused():
    with pytest.raises(ValueError, match="difficulty"):
        family.make_task(1, 6, {})
    with pytest.raises(ValueError, match="no 'llm' teacher"):
        family.make_teacher("llm", family.make_task(1, 1, {}), random.Random(0), {})


def test_family_is_registered():
    maze_family = get_family("maze")
    assert maze_family is family
    assert (family.kind, family.name, family.version) == ("reasoning", "maze", "1")
    assert family.tiers == ("expert", "noisy", "random")


# ---------------------------------------------------------------------------- environment


def test_env_accepts_depth_first_progress_only():
    env = MazeEnv(Maze.from_rows(ROWS))
    moves = [a for a in env.accepted_actions() if a["name"] == "move"]
    assert moves == [
        {"name": "move", "arguments": {"to": [1, 0], "dir": "D"}},
        {"name": "move", "arguments": {"to": [0, 1], "dir": "R"}},
    ]
    up = Action("move", {"to": [-1, 0], "dir": "U"})
    assert not env.accepts(up)
    assert "top boundary" in env.step(up).text and env.pos == (0, 0)
    assert not env.accepts(Action("move", {"to": [1, 1], "dir": "D"}))  # 'to' disagrees
    for _ in range(2):
        env.step(Action("move", {"to": [env.pos[0] + 1, 0], "dir": "D"}))
    assert env.pos == (2, 0) and env.untried(env.pos) == ""
    assert {"name": "backtrack", "arguments": {"to": [0, 0]}} in env.accepted_actions()
    assert not env.accepts(Action("backtrack", {"to": [1, 0]}))  # (1,0) has nothing untried
    assert env.accepts(Action("backtrack", {"to": [0, 0]}))
    assert "Backtracked 2 cell(s) to (0,0)" in env.step(Action("backtrack", {"to": [0, 0]})).text
    assert "".join(env.walk) == "DDUU" and env.stack == [(0, 0)]
    again = Action("move", {"to": [1, 0], "dir": "D"})
    assert not env.accepts(again)  # visited: walking there is legal but not progress
    env.step(again)
    assert env.pos == (1, 0)
    assert env.accepts(Action("backtrack", {"to": [0, 0]}))  # everything below is explored
    env.step(Action("backtrack", {"to": [0, 0]}))
    env.step(Action("move", {"to": [0, 1], "dir": "R"}))
    assert not env.accepts(Action("backtrack", {"to": [0, 0]}))  # (0,1) still has an opening
    assert not env.accepts(Action("answer", {"answer": "RR"}))
    assert env.accepts(Action("answer", {"answer": "RRDLDR"}))
    result = env.step(Action("answer", {"answer": "RRDLDR"}))
    assert result.done and result.reward == 1.0
    assert env.outcome("RRDLDR").success and env.outcome(None).detail == "no answer given"


def test_depth_first_search_records_its_real_dead_ends():
    maze = Maze.from_rows(ROWS)
    events, path = depth_first_search(maze, "DRUL")  # tie at S: down first, into the dead end
    assert path == "RRDLDR"
    assert [(e.kind, e.at, e.to) for e in events[:3]] == [
        ("move", (0, 0), (1, 0)),
        ("move", (1, 0), (2, 0)),
        ("backtrack", (2, 0), (0, 0)),
    ]
    assert events[2].back == 2 and events[3].resumed
    events, path = depth_first_search(maze, "RDUL")  # right first: straight to G
    assert path == "RRDLDR" and all(e.kind == "move" for e in events)


# ---------------------------------------------------------------------------- teachers


@pytest.mark.parametrize("difficulty", sorted(SIZES))
def test_expert_always_succeeds_with_a_real_search_trace(difficulty):
    trajectories = from_table(shard({"expert": 1.0}, [difficulty], stop=200))
    backtracks = 0
    for t in trajectories:
        assert t.outcome.success and t.first_error_step == -1, t.outcome
        assert t.outcome.verifier == "maze-replay"
        assert t.final_answer == t.task.reference["path"]  # DFS path minus dead ends
        assert t.policy.tier == "expert" and t.policy.name == "maze-expert"
        assert [s.action.arguments.get("stage") for s in t.steps[:2]] == ["read", "plan"]
        assert t.steps[-2].action.arguments == {"stage": "verify", "path": t.final_answer}
        assert t.steps[-1].reward == 1.0 and "so it is valid" in t.steps[-2].thought
        for env, step, ok in replay(t):
            assert ok, (step.index, step.thought)
            if step.action.name == "backtrack":
                backtracks += 1
                target = tuple(step.action.arguments["to"])
                assert env.untried(env.pos) == "" and env.backtrack_target() == target
                assert step.thought.startswith(f"{fmt(env.pos)} is a dead end; backtrack")
                assert fmt(target) in step.thought
            elif step.action.name == "move":
                assert f"at {fmt(env.pos)}:" in step.thought.lower()
                assert fmt(tuple(step.action.arguments["to"])) in step.thought
    if difficulty >= 2:
        assert backtracks > len(trajectories)  # real exploration, not a straight replay


@pytest.mark.parametrize("difficulty", sorted(SIZES))
def test_noisy_fails_at_a_step_the_env_rejects(difficulty):
    trajectories = from_table(shard({"noisy": 1.0}, [difficulty], stop=200, seed=11))
    mistakes = set()
    for t in trajectories:
        assert not t.outcome.success
        assert not verify_maze(t.task.env, t.final_answer)[0]
        assert t.outcome.detail == verify_maze(t.task.env, t.final_answer)[1]
        verdicts = [ok for _, _, ok in replay(t)]
        assert t.first_error_step is not None
        assert all(verdicts[: t.first_error_step]) and not verdicts[t.first_error_step]
        mistake = t.policy.params["mistake"]
        mistakes.add(mistake)
        bad = t.steps[t.first_error_step]
        if mistake == "wall":
            assert bad.action.name == "move" and bad.observation.text.startswith("Blocked")
        else:
            assert bad.action.name == "answer" and bad.index == len(t.steps) - 1
        assert t.steps[-1].action.name == "answer" and t.steps[-1].reward == 0.0
    assert mistakes == {"wall", "premature", "corrupt"}


def test_random_walker_answers_with_the_moves_it_made():
    trajectories = from_table(shard({"random": 1.0}, [1, 2, 3], stop=150, seed=3))
    for t in trajectories:
        n = t.task.reference["size"][0]
        assert 1 <= len(t.steps) <= 2 * n * n + 1
        env = family.make_env(t.task, {})
        for step in t.steps:
            env.step(step.action)
        assert t.final_answer == "".join(env.walk)
        assert t.outcome.success == (env.pos == env.maze.goal)
    assert sum(t.outcome.success for t in trajectories) < len(trajectories) / 2


# ---------------------------------------------------------------------------- tables


def test_generation_is_deterministic_across_runs():
    a = shard(MIXED, [1, 2, 3, 4, 5], stop=120)
    b = shard(MIXED, [1, 2, 3, 4, 5], stop=120, prov=OTHER_PROV)
    assert without_provenance(a) == without_provenance(b)
    assert a["provenance"].to_pylist() != b["provenance"].to_pylist()
    assert without_provenance(shard(MIXED, [1, 2], seed=8, stop=30)) != without_provenance(
        shard(MIXED, [1, 2], stop=30)
    )


def test_generation_is_byte_identical_in_another_process():
    code = (
        "import hashlib, sys; sys.path.insert(0, '.');"
        "from tests.test_reasoning_maze import MIXED, digest, shard;"
        "print(digest(shard(MIXED, [1, 2, 3, 4, 5], stop=60)))"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == digest(shard(MIXED, [1, 2, 3, 4, 5], stop=60))


def digest(table) -> str:
    return hashlib.sha256(canonical_json(without_provenance(table)).encode()).hexdigest()


def test_generated_tables_validate():
    table = shard(MIXED, [1, 2, 3, 4, 5], stop=300)
    ids = table["id"].to_pylist()
    first = sorted({x: i for i, x in reversed(list(enumerate(ids)))}.values())
    validate_table(table.take(first))  # the pipeline deduplicates exact ids before publishing
    assert set(table["kind"].to_pylist()) == {"reasoning"}
    assert set(table["policy"].combine_chunks().field("tier").to_pylist()) == set(MIXED)


def test_trajectories_round_trip_through_rows_and_arrow():
    rng = random.Random(0)
    episodes = []
    for seed, tier in enumerate(["expert", "noisy", "random"] * 4):
        task = family.make_task(seed, seed % 5 + 1, {})
        teacher = family.make_teacher(tier, task, rng, {})
        episodes.append(run_episode("reasoning", task, family.make_env(task, {}), teacher, PROV))
    trajectories = [e.trajectory for e in episodes]
    for t in trajectories:
        assert Trajectory.from_row(t.to_row()) == t
    assert from_table(to_table(trajectories)) == trajectories
