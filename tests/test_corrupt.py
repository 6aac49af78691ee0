import pyarrow as pa

from stores.schema import from_table, validate_table
from synth.corrupt import corrupt_table, corruption_sample
from synth.generate import ShardSpec, generate_shard
from tests.factories import RUN_A

OPS = ["swap_adjacent", "drop_step"]


def _clean(n: int = 40) -> pa.Table:
    return generate_shard(ShardSpec("maze", 5, 0, n, {"expert": 1.0}, (2, 3)), RUN_A).trajectories


def test_corruption_does_not_depend_on_sharding():
    clean = _clean()
    whole, _, _ = corrupt_table(clean, OPS, seed=1, params={})
    halves = pa.concat_tables([corrupt_table(clean.slice(i, 13), OPS, 1, {})[0] for i in range(0, 40, 13)])
    assert whole.equals(halves)


def test_corrupted_rows_are_labelled_and_replayed():
    clean = _clean()
    table, blobs, stats = corrupt_table(clean, OPS, seed=1, params={})
    out = from_table(table)
    validate_table(table)
    assert blobs.num_rows == 0  # maze draws no images by default
    sources = {t.id: t for t in from_table(clean)}
    assert {t.corruption.operator for t in out} == set(OPS) and len(out) >= 30
    assert sum(stats.corrupted.values()) == len(out) and len(out) + sum(stats.skipped.values()) == clean.num_rows
    for t in out:
        src = sources[t.corruption.source_id]
        assert t.split == "corrupt" and t.id != src.id
        if t.corruption.operator == "drop_step":
            assert len(t.steps) <= len(src.steps) - 1
        if t.first_error_step is not None and t.first_error_step >= 0:
            assert t.first_error_step >= min(t.corruption.steps)  # nothing breaks before the edit


def test_sample_is_seeded_and_sized():
    clean = _clean()
    a = corruption_sample(clean, 0.25, seed=3)
    assert a.num_rows == 10 and a.equals(corruption_sample(clean, 0.25, seed=3))
    assert not a.equals(corruption_sample(clean, 0.25, seed=4))
    assert corruption_sample(clean, 0.0, seed=3).num_rows == 0  # fraction 0 is a valid config
