"""The contract every reasoning family built on ``synth.reasoning.base`` must keep.

Parametrised over the families whose modules exist, so a new family is checked the moment it
is registered: determinism, the tiers' outcomes and ``first_error_step``, observations that
are the believed state (never a verdict), a reflective catch that is the solver's own recheck
of its mistake, a noisy mistake nothing announces, backtracks that point at real steps, no
filler, difficulty that lengthens traces, distinct tasks, answers tolerant of form, images.
"""

from __future__ import annotations

import importlib.util
import random
import re
import statistics

import pytest

from stores.schema import to_table
from synth.episode import run_episode
from synth.generate import ShardSpec, generate_shard
from synth.reasoning.base import GROUPS, ReasoningFamily, judge
from synth.registry import _FAMILY_MODULES, get_family
from tests.factories import RUN_A

REASONING = sorted(
    name
    for name, module in _FAMILY_MODULES.items()
    if module.startswith("synth.reasoning.") and importlib.util.find_spec(module) is not None
)
BASED = [n for n in REASONING if isinstance(get_family(n), ReasoningFamily)]
SEEDS = range(12)


def episode(family, seed: int, difficulty: int, tier: str, params: dict | None = None):
    params = params or {}
    task = family.make_task(seed, difficulty, params)
    teacher = family.make_teacher(tier, task, random.Random(seed), params)
    return run_episode("reasoning", task, family.make_env(task, params), teacher, RUN_A)


def believed(family, t):
    """The observation each step should have: the state its moves and backtracks lead to, as
    the family shows it (computed here by replaying the stored actions)."""
    problem = t.task.env
    stack = [family.start(problem)]
    out = []
    for s in t.steps:
        if s.action.name == family.action:
            stack.append(family.apply(problem, stack[-1], s.action.arguments)[0])
            out.append(family.observe(problem, stack[-1]))
        elif s.action.name == "backtrack":
            del stack[s.action.arguments["depth"] + 1 :]
            out.append(family.observe(problem, stack[-1]))
        else:
            out.append(None)
    return out


def depths(family, t) -> list[int]:
    """Moves in force after each step."""
    depth, out = 0, []
    for s in t.steps:
        if s.action.name == family.action:
            depth += 1
        elif s.action.name == "backtrack":
            depth = s.action.arguments["depth"]
        out.append(depth)
    return out


@pytest.fixture(params=BASED)
def family(request) -> ReasoningFamily:
    return get_family(request.param)


def test_there_are_sixteen_families_in_four_groups():
    groups = {get_family(n).group for n in BASED}
    assert len(REASONING) >= 16, REASONING
    assert groups == set(GROUPS), groups


def test_levels_and_metadata(family):
    assert sorted(family.levels) == [1, 2, 3, 4, 5]
    assert family.group in GROUPS
    assert family.rules and family.action not in ("think", "backtrack", "answer")
    doc = importlib.import_module(_FAMILY_MODULES[family.name]).__doc__
    assert doc and "difficulty" in doc.lower(), "the module docstring documents the levels in a table"


def test_tasks_are_deterministic_and_distinct(family):
    a = family.make_task(7, 2, {})
    b = family.make_task(7, 2, {})
    assert a == b
    ids = {family.make_task(seed, 1, {}).id for seed in range(300)}
    assert len(ids) >= 285, f"only {len(ids)} distinct tasks in 300 seeds at difficulty 1"


@pytest.mark.parametrize("difficulty", [1, 2, 3, 5])
def test_expert_is_correct_and_clean(family, difficulty):
    for seed in SEEDS if difficulty < 5 else range(3):
        t = episode(family, seed, difficulty, "expert").trajectory
        assert t.outcome.success, (seed, t.outcome.detail)
        assert t.first_error_step == -1
        assert family.verify(t.task.env, t.task.reference["answer"])[0]
        assert [s.action.arguments.get("stage") for s in t.steps[:2]] == ["read", "plan"]
        assert t.steps[-1].action.name == "answer" and t.steps[-2].action.arguments == {"stage": "verify"}


@pytest.mark.parametrize("tier", ["expert", "reflective", "noisy", "random"])
def test_observations_are_the_believed_state_never_a_verdict(family, tier):
    for seed in range(6):
        t = episode(family, seed, 2, tier).trajectory
        for s, want in zip(t.steps, believed(family, t), strict=True):
            if want is not None:
                assert s.observation.text == want, (seed, s.index, s.observation.text)
        assert not any("Rule broken" in s.observation.text or "Cannot backtrack" in s.observation.text for s in t.steps)


def test_reflective_catches_its_own_mistake_and_recovers(family):
    for seed in SEEDS:
        t = episode(family, seed, 2, "reflective").trajectory
        assert t.outcome.success, (seed, t.outcome.detail)
        k = t.first_error_step
        assert k is not None and k >= 2, "the mistake is an env-rejected move after read and plan"
        assert t.steps[k].action.name == family.action
        depth = depths(family, t)
        before = depth[k] - 1  # moves in force before the mistake
        catch = next(i for i in range(k + 1, len(t.steps)) if t.steps[i].action.name == "backtrack"
                     and t.steps[i].action.arguments["depth"] <= before)
        check = t.steps[catch - 1]
        assert check.action.arguments == {"stage": "check"}, "the catch follows the solver's own check"
        assert re.search(rf"\bstep {k}\b", check.thought), (seed, check.thought)
        assert t.steps[catch].action.arguments["depth"] == before
        assert t.steps[catch].action.arguments["to_step"] < k
        assert t.policy.params["caught_after"] >= 0 and t.policy.params["mistake_kind"]


def test_reflective_catches_at_varying_distances(family):
    distances = {episode(family, seed, 3, "reflective").trajectory.policy.params["caught_after"] for seed in range(20)}
    assert len(distances) >= 2, distances


def test_noisy_mistake_is_never_announced_and_never_undone(family):
    for seed in SEEDS:
        t = episode(family, seed, 2, "noisy").trajectory
        assert not t.outcome.success, seed
        k = t.first_error_step
        assert k is not None and k >= 2 and t.steps[k].action.name == family.action
        depth = depths(family, t)
        assert all(depth[i] >= depth[k] for i in range(k, len(t.steps))), "the mistake stays in force"
        checks = [s.thought for s in t.steps[k + 1 :] if s.action.arguments == {"stage": "check"}]
        assert not any(re.search(rf"\bstep {k}\b", c) for c in checks), "no check looks at the mistaken step"
        assert t.steps[-2].action.arguments == {"stage": "verify"} and t.outcome.detail


def test_mistakes_are_rejected_by_the_state_rule_and_mostly_legal_where_the_family_has_legal_ones(family):
    legal = []
    for seed in SEEDS:
        t = episode(family, seed, 3, "noisy").trajectory
        problem, k = t.task.env, t.first_error_step
        stack, sound = [family.start(problem)], [True]
        search = family.search(t.task.id, problem)
        for s in t.steps[:k]:
            if s.action.name == family.action:
                after, _, ok, snd = judge(family, problem, search, stack[-1], sound[-1], s.action.arguments)
                assert ok
                stack.append(after)
                sound.append(snd)
            elif s.action.name == "backtrack":
                del stack[s.action.arguments["depth"] + 1 :], sound[s.action.arguments["depth"] + 1 :]
        _, broken, ok, _ = judge(family, problem, search, stack[-1], sound[-1], t.steps[k].action.arguments)
        assert not ok
        legal.append(broken is None)
        assert t.policy.params["legal"] == (broken is None)
    if family.name in LEGAL_MISTAKES:
        assert sum(legal) >= len(legal) // 3, f"{family.name}: {sum(legal)} of {len(legal)} mistakes are legal moves"


# families whose mistakes are mostly legal moves that lose every completion (in the others a
# legal move can always still be completed, so their mistakes break a rule; euler_path's one
# legal kind, an even start, exists only at the first move)
LEGAL_MISTAKES = {"nqueens", "sudoku", "futoshiki", "nonogram", "sokoban", "shortest_path"}


def test_random_answers_in_format(family):
    outcomes = [episode(family, seed, 1, "random").trajectory for seed in SEEDS]
    for t in outcomes:
        assert t.steps[-1].action.name == "answer" and t.final_answer is not None
    assert sum(t.outcome.success for t in outcomes) < len(outcomes)


def test_backtracks_point_at_earlier_steps(family):
    for seed in SEEDS:
        for tier in ("expert", "reflective"):
            for s in episode(family, seed, 3, tier).trajectory.steps:
                if s.action.name == "backtrack":
                    target = s.action.arguments["to_step"]
                    assert 1 <= target < s.index and re.search(rf"\bstep {target}\b", s.thought), s.thought


def test_no_three_identical_consecutive_thoughts(family):
    for tier in ("expert", "reflective", "noisy", "random"):
        for seed in range(8):
            thoughts = [s.thought for s in episode(family, seed, 1 + seed % 3, tier).trajectory.steps]
            for i in range(len(thoughts) - 2):
                assert not thoughts[i] == thoughts[i + 1] == thoughts[i + 2], (tier, seed, thoughts[i])


def test_plans_name_the_instance(family):
    plans = {episode(family, seed, 2, "expert").trajectory.steps[1].thought for seed in range(12)}
    assert len(plans) >= 6, "plans vary with the instance and the wording, not one fixed string"


def test_wording_varies_but_the_seed_fixes_it(family):
    a = [s.thought for s in episode(family, 3, 2, "reflective").trajectory.steps]
    b = [s.thought for s in episode(family, 3, 2, "reflective").trajectory.steps]
    assert a == b
    reads = {episode(family, seed, 2, "expert").trajectory.steps[0].thought for seed in range(10)}
    assert len(reads) >= 5


def test_traces_grow_with_difficulty(family):
    def mean_steps(d: int) -> float:
        return statistics.mean(len(episode(family, seed, d, "expert").trajectory.steps) for seed in range(6))

    assert mean_steps(5) > mean_steps(1)


@pytest.mark.parametrize("form", ["{a}.", "'{a}'", '"{a}"', "Answer: {a}", "answer: {a}.", "`{a}`", "  {a}  "])
def test_answers_are_tolerant_of_form(family, form):
    for seed in range(3):
        task = family.make_task(seed, 1, {})
        answer = task.reference["answer"]
        assert family.verify(task.env, form.format(a=answer))[0], (form, answer, family.verify(task.env, form.format(a=answer)))


def test_images_are_drawn_when_asked(family):
    if not family.renderable:
        pytest.skip(f"{family.name} draws no images")
    shard = generate_shard(ShardSpec(family.name, 0, 0, 3, {"expert": 1.0}, (1,), {"images": "task", "image_size": 256}), RUN_A)
    refs = [row[0]["observation"]["image_ref"] for row in shard.trajectories["steps"].to_pylist()]
    assert all(refs) and set(refs) <= set(shard.blobs["id"].to_pylist())
    assert all(b[:8] == b"\x89PNG\r\n\x1a\n" for b in shard.blobs["bytes"].to_pylist())
    off = generate_shard(ShardSpec(family.name, 0, 0, 3, {"expert": 1.0}, (1,), {}), RUN_A)
    assert off.blobs.num_rows == 0


def test_shards_are_byte_identical(family):
    spec = ShardSpec(family.name, 3, 0, 20, {"expert": 0.4, "reflective": 0.2, "noisy": 0.3, "random": 0.1}, (1, 2, 3), {})
    a, b = generate_shard(spec, RUN_A), generate_shard(spec, RUN_A)
    assert a.trajectories.equals(b.trajectories)
    assert to_table([]).schema == a.trajectories.schema


def test_docs_table_matches_the_levels():
    from pathlib import Path

    from synth.reasoning.levels import levels_markdown

    doc = (Path(__file__).resolve().parents[1] / "docs" / "reasoning.md").read_text()
    assert levels_markdown() in doc, "regenerate the table: python -m synth.reasoning.levels"



_LIS = type(get_family("lis"))


class _Spotless(_LIS):
    """LIS with nothing tempting anywhere: no point of a trace has a mistake."""

    def mistake(self, problem, state, search, say, rng):
        return None


class _Forgiving(type(get_family("hanoi"))):
    """Hanoi (whose mistakes break a rule, so a washed-out answer does not unmake them) with a
    verifier that takes any answer: every noisy mistake washes out."""

    def judge(self, problem, answer):
        return True, "anything goes"


def test_a_task_with_no_mistake_anywhere_gets_the_experts_trace_not_an_error():
    for tier in ("reflective", "noisy"):
        t = episode(_Spotless(), 3, 2, tier).trajectory
        assert t.outcome.success and t.first_error_step == -1
        assert t.policy.params["mistake"] is None


def test_a_noisy_mistake_that_washes_out_stands_and_the_verifier_labels_it():
    t = episode(_Forgiving(), 3, 2, "noisy").trajectory
    assert t.policy.params["ends_right"] is True and t.policy.params["mistake"]
    assert t.outcome.success and t.first_error_step >= 2
