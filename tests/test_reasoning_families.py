"""The contract every reasoning family built on ``synth.reasoning.base`` must keep.

Parametrised over the families whose modules exist, so a new family is checked the moment it
is registered: determinism, the four tiers' outcomes and ``first_error_step``, backtracks that
point at real steps, difficulty that lengthens traces, distinct tasks, and images.
"""

from __future__ import annotations

import importlib.util
import random
import statistics

import pytest

from stores.schema import to_table
from synth.episode import run_episode
from synth.generate import ShardSpec, generate_shard
from synth.reasoning.base import GROUPS, ReasoningFamily
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
        ep = episode(family, seed, difficulty, "expert")
        t = ep.trajectory
        assert t.outcome.success, (seed, t.outcome.detail)
        assert t.first_error_step == -1
        assert family.verify(t.task.env, t.task.reference["answer"])[0]
        assert [s.action.name for s in t.steps[:2]] == ["think", "think"]
        assert t.steps[-1].action.name == "answer" and t.steps[-2].action.arguments == {"stage": "verify"}


def test_reflective_makes_a_real_mistake_and_recovers(family):
    for seed in SEEDS:
        t = episode(family, seed, 2, "reflective").trajectory
        assert t.outcome.success, (seed, t.outcome.detail)
        k = t.first_error_step
        assert k is not None and k >= 2, "the mistake is a real, env-rejected move"
        assert t.steps[k].action.name == family.action
        assert t.steps[k].observation.text.startswith("Rule broken")
        fix = t.steps[k + 1]
        assert fix.action.name == "backtrack" and f"check step {k}" in fix.thought
        assert t.steps[fix.action.arguments["to_step"]].index < k


def test_noisy_errs_where_the_env_says_and_ends_wrong(family):
    for seed in SEEDS:
        t = episode(family, seed, 2, "noisy").trajectory
        assert not t.outcome.success, seed
        k = t.first_error_step
        assert k is not None and t.steps[k].action.name == family.action
        assert t.steps[k].observation.text.startswith("Rule broken")
        assert all(not s.observation.text.startswith("Rule broken") for s in t.steps[:k])
        assert t.outcome.detail


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
                    assert 1 <= target < s.index and f"go back to step {target}" in s.thought.lower()
                    assert s.observation.text.startswith("Back to")


def test_traces_grow_with_difficulty(family):
    def mean_steps(d: int) -> float:
        return statistics.mean(len(episode(family, seed, d, "expert").trajectory.steps) for seed in range(6))

    assert mean_steps(5) > mean_steps(1)


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
