"""The synthesize flow: one episode per distinct task, repeats replaced deterministically,
shortfalls reported, and the same rows whether shards run in-process or on the pool."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from filters.dedup import task_dedup
from flows.config import parse_config
from flows.pipeline import synthesize_flow
from flows.workers import shard_pool
from tests.factories import RUN_A, make_table


def config(count: int, difficulties: list[int], workers: int = 1):
    return parse_config({
        "dataset": "synth",
        "seed": 1,
        "shard_size": 64,
        "workers": workers,
        "synth": {"reasoning": [{"family": "maze", "count": count, "difficulties": difficulties,
                                 "tiers": {"expert": 0.5, "noisy": 0.5}}]},
    })


def synthesize(cfg):
    from prefect.task_runners import ThreadPoolTaskRunner

    with shard_pool(cfg.workers) as n:
        return synthesize_flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=n))(cfg, RUN_A)


def task_ids(table: pa.Table) -> list[str]:
    return pc.struct_field(table["task"], "id").to_pylist()


def test_task_dedup_keeps_the_first_episode_of_each_task():
    table = make_table(6, seed=2)
    doubled = pa.concat_tables([table, table.slice(1, 2)])
    kept, dropped = task_dedup(doubled)
    assert dropped == 2 and kept.equals(table)


def test_repeats_are_replaced_and_reruns_match(prefect_server):
    # 3x3 mazes: only 192 distinct layouts, so 300 episodes at difficulties 1-2 repeat some
    first = synthesize(config(300, [1, 2]))
    ids = task_ids(first.trajectories)
    assert len(ids) == 300 and len(set(ids)) == 300
    assert first.repeated_tasks["maze"] > 0 and first.shortfall == {}
    again = synthesize(config(300, [1, 2], workers=2))
    assert again.trajectories.equals(first.trajectories)  # pool or not, same rows in the same order


def test_an_exhausted_task_space_is_reported(prefect_server):
    result = synthesize(config(400, [1]))
    ids = task_ids(result.trajectories)
    assert len(set(ids)) == len(ids) <= 192
    assert result.shortfall == {"maze": 400 - len(ids)}


@pytest.mark.parametrize("images", ["off", "task", "steps"])
def test_family_params_carry_the_image_switch(images):
    cfg = parse_config({
        "dataset": "x", "synth": {"reasoning": [{"family": "nqueens", "count": 1, "images": images, "params": {"image_size": 128}}]},
    })
    spec = cfg.families()[0][1]
    assert spec.family_params() == {"image_size": 128, "images": images}
