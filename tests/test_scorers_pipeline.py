"""Grouped sampling, the score/select config sections, the CLIs and one pipeline run with
scoring and selection; bad input leaves the store as it was."""

from __future__ import annotations

import inspect
from collections import Counter
from datetime import UTC, datetime

import pyarrow.compute as pc
import pytest
import yaml

from filters.dedup import task_dedup
from filters.scorers import load_all
from filters.scorers.base import REGISTRY
from flows.cli import main
from flows.config import ConfigError, parse_config
from stores.schema import Provenance
from synth.generate import ShardSpec, generate_shard
from synth.registry import get_family
from synth.seeding import derive_seed

PROV = Provenance("", "", "code", "cfg", "run", datetime(2026, 1, 1, tzinfo=UTC))
TIERS = {"expert": 0.3, "reflective": 0.3, "noisy": 0.4}


def test_grouped_sampling_gives_k_distinct_episodes_of_one_task():
    spec = ShardSpec("maze", 5, 0, 6, TIERS, (1, 2), {"images": "off"}, samples_per_task=3)
    table = generate_shard(spec, PROV).trajectories
    tasks = pc.struct_field(table["task"], "id").to_pylist()
    assert table.num_rows == 18 and set(Counter(tasks).values()) == {3}
    assert len(set(table["id"].to_pylist())) == 18  # no two identical trajectories
    # group i is the task K = 1 draws at index i, with its own tiers and wordings
    maze = get_family("maze")
    rows = table.to_pylist()
    for i in range(6):
        difficulty = rows[3 * i]["task"]["difficulty"]
        assert rows[3 * i]["task"]["id"] == maze.make_task(derive_seed(5, "maze", i, "task"), difficulty, {}).id
    assert len({r["policy"]["tier"] for r in rows}) > 1
    assert all(r["outcome"]["success"] for r in rows if r["policy"]["tier"] == "expert")
    again = generate_shard(spec, PROV).trajectories
    assert again["id"].to_pylist() == table["id"].to_pylist()


def test_group_dedup_keeps_whole_first_groups():
    spec = ShardSpec("maze", 5, 0, 3, TIERS, (1,), {"images": "off"}, samples_per_task=2)
    table = generate_shard(spec, PROV).trajectories
    # a later draw of the first task from another seed (another group) goes as a whole
    import pyarrow as pa

    task = table["task"].to_pylist()
    copy = table.slice(0, 2)
    moved = [dict(t, seed=t["seed"] + 1) for t in task[:2]]
    copy = copy.set_column(copy.schema.get_field_index("task"), "task", pa.array(moved, table.schema.field("task").type))
    kept, dropped = task_dedup(pa.concat_tables([table, copy]), grouped=True)
    assert kept.num_rows == table.num_rows and dropped == 2
    flat, dropped_flat = task_dedup(table)
    assert flat.num_rows == 3 and dropped_flat == 3  # the ungrouped rule keeps one episode per task


BASE = {"dataset": "d", "synth": {"reasoning": [{"family": "maze", "count": 8, "samples_per_task": 4}]}}


@pytest.mark.parametrize("change, message", [
    ({"synth": {"reasoning": [{"family": "maze", "count": 10, "samples_per_task": 4}]}}, "not a multiple"),
    ({"score": {"scorers": [{"name": "verifer"}]}}, r"score.scorers\[0\] \(verifer\): unknown scorer"),
    ({"score": {"scorers": [{"name": "mc", "params": {"rolouts": 3}}]}}, r"score.scorers\[0\] \(mc\): .*rolouts"),
    ({"score": {"scorers": [{"name": "verifier"}, {"name": "verifier"}]}}, "both write 'verifier'"),
    ({"score": {"scorers": [{"name": "verifier", "param": {}}]}}, "score.scorers.0.param"),
    ({"select": {"pairs": {"min_margin": -1}}}, "select: pairs.min_margin"),
])
def test_config_errors_name_the_entry(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**BASE, **change})


def test_every_registered_scorer_takes_what_build_scorer_passes():
    """build_scorer hands each class its params plus instance, seed and family_params; a
    scorer whose __init__ narrows that signature breaks only when it is configured."""
    load_all()
    assert {"verifier", "mc", "learned_rm", "hf_rm", "llm_judge"} <= set(REGISTRY)
    for name, cls in REGISTRY.items():
        inspect.signature(cls).bind(cls.Params, instance=name, seed=0, family_params={})


def test_config_default_scoring_is_verifier_and_prefix_correct():
    cfg = parse_config(BASE)
    assert [e["name"] for e in cfg.score.entries()] == ["verifier", "prefix_correct"]
    cfg = parse_config({**BASE, "score": {"scorers": [{"name": "verifier", "as": "v2"}]}})
    assert cfg.score.entries()[0]["as"] == "v2"


def _dataset_dirs(store):
    root = store.root / "datasets"
    return sorted(str(p.relative_to(root)) for p in root.rglob("v*")) if root.exists() else []


def test_score_and_select_cli_and_bad_input(store, tmp_path):
    from stores.schema import to_table
    from tests.scoring_toy import line_row

    rows = [line_row([True] * 4, tier="expert", seed=1), line_row([True, False], seed=1),
            line_row([True, True, False], seed=1), line_row([True] * 4, tier="expert", seed=2)]
    source = store.publish("toy", to_table(rows))
    cfg = tmp_path / "score.yaml"
    cfg.write_text(yaml.safe_dump({"seed": 1, "batch_size": 2, "scorers": [
        {"name": "verifier"}, {"name": "mc", "params": {"rollouts": 2, "epsilon": 0.0}}, {"name": "recovery"}]}))
    args = ["--store", str(store.root)]
    assert main([*args, "score", source.ref, "--config", str(cfg), "--workers", "1"]) == 0
    scored = store.resolve("toy@v2")
    assert scored.manifest["parents"][0]["role"] == "score"
    assert scored.manifest["params"]["stats"]["mc"]["rollouts"] > 0
    steps = {r["id"]: {e["name"]: e["values"] for e in r["step_scores"]} for r in store.read(scored).to_pylist()}
    assert steps[rows[1].id]["mc.soft"] == [1.0, 0.0]
    sel = tmp_path / "select.yaml"
    sel.write_text(yaml.safe_dump({"aggregate": {"step": "mc.soft"}, "pairs": {"max_per_task": 3}}))
    assert main([*args, "select", scored.ref, "--config", str(sel)]) == 0
    chosen = store.read(store.resolve("toy-selected@v1"), table="preference_pairs")
    # the expert beats both failures on outcome; of the failures, the longer live prefix wins (mean 2/3 > 1/2)
    assert set(zip(chosen["chosen_id"].to_pylist(), chosen["rejected_id"].to_pylist(), strict=True)) == {
        (rows[0].id, rows[1].id), (rows[0].id, rows[2].id), (rows[2].id, rows[1].id)}
    before = _dataset_dirs(store)
    # an unknown scorer, a scorer on a kind it does not support, an empty selection: errors, store unchanged
    cfg.write_text(yaml.safe_dump({"scorers": [{"name": "nope"}]}))
    assert main([*args, "score", source.ref, "--config", str(cfg)]) == 1
    cfg.write_text(yaml.safe_dump({"scorers": [{"name": "offscreen"}]}))
    assert main([*args, "score", source.ref, "--config", str(cfg)]) == 1
    sel.write_text(yaml.safe_dump({"thresholds": [{"score": "verifier", "min": 5}]}))
    assert main([*args, "select", scored.ref, "--config", str(sel)]) == 1
    assert _dataset_dirs(store) == before


def test_scorer_on_unsupported_kind_message(store, capsys):
    from filters.scorers.base import ScorerError
    from filters.scoring import score_version
    from tests.factories import make_table

    info = store.publish("mixed", make_table(6))
    with pytest.raises(ScorerError, match=r"cannot score kind\(s\) \['reasoning', 'research'\]; it supports \['gui'\]"):
        score_version(store, info, [{"name": "offscreen"}])


def test_pipeline_scores_and_selects(tmp_path, prefect_server):
    from flows.pipeline import pipeline
    from stores.store import Store

    config = parse_config({
        "dataset": "sc", "seed": 2, "workers": 1, "shard_size": 16, "retrieve": {"prior": None},
        "synth": {"reasoning": [{"family": "maze", "count": 8, "difficulties": [1], "samples_per_task": 4,
                                 "tiers": TIERS}]},
        "corrupt": {"fraction": 0.0},
        "score": {"batch_size": 8, "scorers": [{"name": "verifier"}, {"name": "mc", "params": {"rollouts": 2}},
                                               {"name": "action_valid"}, {"name": "length"}]},
        "select": {"aggregate": {"step": "mc.soft", "traj": "verifier"}, "thresholds": [{"score": "action_valid", "min": 1}],
                   "pairs": {"max_per_task": 2}},
    })
    result = pipeline(config, str(tmp_path / "store"))
    store = Store(tmp_path / "store")
    main_version = store.resolve(result.ref)
    table = store.read(main_version)
    assert set(Counter(pc.struct_field(table["task"], "id").to_pylist()).values()) == {4}
    assert main_version.manifest["params"]["run"]["score"]["mc"]["rollouts"] > 0
    names = {e["name"] for r in table["step_scores"].to_pylist() for e in r}
    assert {"mc.soft", "mc.hard", "action_valid", "length"} <= names
    selected = store.resolve(result.selected)
    assert selected.manifest["parents"] == [{**selected.manifest["parents"][0], "dataset": "sc", "role": "selection"}]
    pairs = store.read(selected, table="preference_pairs")
    assert pairs.num_rows >= 2 and result.selection[-1]["rows"] == selected.rows
