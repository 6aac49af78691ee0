"""The synthesize flow: one episode per distinct task, repeats and failed experts replaced
deterministically, shortfalls reported, and the same rows whether shards run in-process or on
the pool."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from filters.dedup import task_dedup
from flows.config import parse_config
from flows.pipeline import drop_failed_experts, run_synthesis
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.registry import register
from tests.factories import RUN_A, make_table


class Countdown(ReasoningFamily):
    """A deliberately tiny task space (difficulty d: count to a number below 10 * d), so
    repeats are certain and the space can run out."""

    name = "countdown"
    group = "algorithms"
    action = "add"
    rules = "adds 1 below the target"
    levels = {d: {"top": 10 * d} for d in range(1, 6)}

    def generate(self, rng, top):
        return {"k": rng.randrange(1, top)}

    def describe(self, p):
        return f"Count to {p['k']}."

    def read(self, p, say):
        return f"Target {p['k']}."

    def plan(self, p, say):
        return "Add one at a time."

    def solve(self, p):
        return Search([TraceStep("apply", f"{i + 1}.", {"add": 1}) for i in range(p["k"])], str(p["k"]))

    def judge(self, p, answer):
        return (answer.strip() == str(p["k"]), f"expected a count of {p['k']}")

    def start(self, p):
        return 0

    def apply(self, p, state, move):
        return state + 1, None if state < p["k"] else f"{state + 1} passes {p['k']}"

    def mistake(self, p, state, search, say, rng):
        return Mistake({"add": 1}, "one more", "slip") if state >= p["k"] else None

    def read_off(self, p, state):
        return str(state)

    def random_move(self, p, state, rng):
        return {"add": 1}


register(Countdown())


class Flaky(Countdown):
    """Countdown whose expert miscounts every target divisible by 3: a family with failing
    experts, as a buggy solver or a step limit would give."""

    name = "flaky"

    def solve(self, p):
        k = p["k"] - (p["k"] % 3 == 0)
        return Search([TraceStep("apply", f"{i + 1}.", {"add": 1}) for i in range(k)], str(k))


register(Flaky())


def config(count: int, difficulties: list[int], workers: int = 1, family: str = "maze"):
    return parse_config({
        "dataset": "synth",
        "seed": 1,
        "shard_size": 64,
        "workers": workers,
        "synth": {"reasoning": [{"family": family, "count": count, "difficulties": difficulties,
                                 "tiers": {"expert": 1.0}}]},
    })


def synthesize(cfg):
    return run_synthesis(cfg, RUN_A)


def task_ids(table: pa.Table) -> list[str]:
    return pc.struct_field(table["task"], "id").to_pylist()


def test_task_dedup_keeps_the_first_episode_of_each_task():
    table = make_table(6, seed=2)
    doubled = pa.concat_tables([table, table.slice(1, 2)])
    kept, dropped = task_dedup(doubled)
    assert dropped == 2 and kept.equals(table)


def test_repeats_are_replaced_deterministically(prefect_server):
    # 15 episodes over the 19 distinct tasks of difficulties 1-2 (k < 20): repeats are certain
    first = synthesize(config(15, [1, 2], family="countdown"))
    ids = task_ids(first.trajectories)
    assert len(ids) == 15 and len(set(ids)) == 15
    assert first.repeated_tasks["countdown"] > 0 and first.shortfall == {}
    assert synthesize(config(15, [1, 2], family="countdown")).trajectories.equals(first.trajectories)


def test_an_exhausted_task_space_is_reported(prefect_server):
    result = synthesize(config(30, [1], family="countdown"))
    ids = task_ids(result.trajectories)
    assert len(ids) == len(set(ids)) == 9  # every task of difficulty 1, once
    assert result.shortfall == {"countdown": 21}


def test_failed_experts_never_reach_train_and_are_replaced(prefect_server):
    cfg = parse_config({
        "dataset": "synth", "seed": 2, "shard_size": 16, "workers": 1,
        "synth": {"reasoning": [{"family": "flaky", "count": 20, "difficulties": [5],
                                 "tiers": {"expert": 0.5, "random": 0.5}}]},
    })
    result = synthesize(cfg)
    table = result.trajectories
    tiers = pc.struct_field(table["policy"], "tier").to_pylist()
    success = pc.struct_field(table["outcome"], "success").to_pylist()
    assert table.num_rows == 20 and result.shortfall == {}
    assert all(ok for tier, ok in zip(tiers, success, strict=True) if tier == "expert")
    assert "expert" in tiers and result.failed_experts["flaky"] > 0
    assert drop_failed_experts(table)[1] == 0
    assert synthesize(cfg).trajectories.equals(table), "the replacements are seeded like every episode"


def test_drop_failed_experts_keeps_every_other_row():
    table = make_table(30, seed=4)  # factory rows: tier expert when successful, noisy otherwise
    kept, dropped = drop_failed_experts(table)
    assert dropped == 0 and kept.equals(table)
    policy = table["policy"].to_pylist()
    policy[0] = {**policy[0], "tier": "expert"}
    outcome = table["outcome"].to_pylist()
    outcome[0] = {**outcome[0], "success": False}
    broken = table.set_column(table.schema.get_field_index("policy"), "policy", pa.array(policy, table.schema.field("policy").type))
    broken = broken.set_column(broken.schema.get_field_index("outcome"), "outcome", pa.array(outcome, table.schema.field("outcome").type))
    kept, dropped = drop_failed_experts(broken)
    assert dropped == 1 and kept.num_rows == 29 and kept.equals(broken.slice(1))


def test_the_process_pool_gives_the_same_rows(prefect_server):
    alone = synthesize(config(200, [1, 2, 3]))
    pooled = synthesize(config(200, [1, 2, 3], workers=2))
    assert pooled.trajectories.equals(alone.trajectories)


@pytest.mark.parametrize("images", ["off", "task", "steps"])
def test_family_params_carry_the_image_switch(images):
    cfg = parse_config({
        "dataset": "x", "synth": {"reasoning": [{"family": "nqueens", "count": 1, "images": images, "params": {"image_size": 128}}]},
    })
    spec = cfg.families()[0][1]
    assert spec.family_params() == {"image_size": 128, "images": images}
