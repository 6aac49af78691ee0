"""The synthesize flow: one episode per distinct task, repeats replaced deterministically,
shortfalls reported, and the same rows whether shards run in-process or on the pool."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from filters.dedup import task_dedup
from flows.config import parse_config
from flows.pipeline import run_synthesis
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
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

    def read(self, p):
        return f"Target {p['k']}."

    def solve(self, p):
        return Search("Add one at a time.", [TraceStep("apply", f"{i + 1}.", {"add": 1}) for i in range(p["k"])], str(p["k"]))

    def verify(self, p, answer):
        return (answer.strip() == str(p["k"]), f"expected a count of {p['k']}")

    def start(self, p):
        return 0

    def apply(self, p, state, move):
        return state + 1, None if state < p["k"] else f"{state + 1} passes {p['k']}"

    def blunder(self, p, state, rng):
        return ({"add": 1}, "one more") if state >= p["k"] else None

    def read_off(self, p, state):
        return str(state)

    def random_move(self, p, state, rng):
        return {"add": 1}


register(Countdown())


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
