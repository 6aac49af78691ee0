"""End to end for the reasoning engine: every family and tier through the real pipeline
(Prefect, the process pool, task dedup, publish), then success by family x tier in SQL."""

import json

import pyarrow.compute as pc
import pytest
import yaml

from flows.cli import main
from stores.store import Store
from synth.reasoning.levels import reasoning_families

TIERS = {"expert": 0.25, "reflective": 0.25, "noisy": 0.25, "random": 0.25}
COUNT = 16


@pytest.fixture(scope="module")
def published(tmp_path_factory, prefect_server):
    root = tmp_path_factory.mktemp("reasoning")
    families = [f.name for f in reasoning_families()]
    config = {
        "dataset": "reasoning_e2e",
        "seed": 5,
        "shard_size": 8,
        "workers": 2,
        "synth": {
            "reasoning": [
                {"family": name, "count": COUNT, "difficulties": [1, 2], "tiers": TIERS,
                 **({"images": "task"} if name == "nqueens" else {})}
                for name in families
            ]
        },
        "retrieve": {"enabled": False},
        "corrupt": {"fraction": 0.0},
    }
    path = root / "reasoning.yaml"
    path.write_text(yaml.safe_dump(config))
    store_root = root / "store"
    assert main(["--store", str(store_root), "run", str(path)]) == 0
    return Store(store_root), store_root, families


def test_every_family_and_tier_with_distinct_tasks(published):
    store, _, families = published
    table = store.read("reasoning_e2e@latest")
    task = table["task"].combine_chunks()
    fams = pc.struct_field(task, "family").to_pylist()
    tiers = pc.struct_field(table["policy"].combine_chunks(), "tier").to_pylist()
    assert {f: fams.count(f) for f in set(fams)} == dict.fromkeys(families, COUNT)
    assert {(f, t) for f, t in zip(fams, tiers, strict=True)} == {(f, t) for f in families for t in TIERS}
    ids = pc.struct_field(task, "id").to_pylist()
    assert len(set(ids)) == len(ids), "no two tasks in one dataset are the same"


def test_success_by_family_and_tier_in_sql(published, capsys):
    _, root, families = published
    sql = (
        'SELECT task.family AS family, policy.tier AS tier, avg(outcome.success::INT) AS success '
        'FROM "reasoning_e2e@latest" GROUP BY ALL ORDER BY ALL'
    )
    capsys.readouterr()
    assert main(["--store", str(root), "catalog", "query", "-f", "json", sql]) == 0
    rows = json.loads(capsys.readouterr().out)
    rate = {(r["family"], r["tier"]): r["success"] for r in rows}
    for f in families:
        assert rate[(f, "expert")] == 1.0 and rate[(f, "reflective")] == 1.0, f
        assert rate[(f, "noisy")] == 0.0, f


def test_images_land_in_blobs(published):
    store, _, _ = published
    table = store.read("reasoning_e2e@latest")
    queens = table.filter(pc.equal(pc.struct_field(table["task"], "family"), "nqueens"))
    refs = {steps[0]["observation"]["image_ref"] for steps in queens["steps"].to_pylist()}
    assert None not in refs and len(refs) == COUNT
    blobs = store.read("reasoning_e2e@latest", table="blobs")
    assert set(blobs["id"].to_pylist()) == refs  # only the images some step refers to
    assert all(b.startswith(b"\x89PNG") for b in blobs["bytes"].to_pylist())


def test_families_command_lists_every_family_with_levels(capsys, monkeypatch):
    from flows import cli

    monkeypatch.setattr(cli.out, "width", 400)  # no wrapping, whatever the terminal
    assert main(["families"]) == 0
    shown = capsys.readouterr().out
    for f in reasoning_families():
        assert f.name in shown
    assert "blocked=4" in shown  # nqueens level 1, from its `levels`
