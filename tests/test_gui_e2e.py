"""End to end for the GUI engine: its apps x every scripted tier through the real pipeline
(Prefect, the process pool, task dedup, corruption replay, publish), then success by app x
tier in catalog SQL, and the screenshots in the version's blobs."""

import json

import pyarrow.compute as pc
import pytest
import yaml

from flows.cli import main
from stores.schema import from_table
from stores.store import Store

TIERS = {"expert": 0.25, "reflective": 0.25, "noisy": 0.25, "random": 0.25}
COUNT = 16
APPS = ("form", "mail", "settings")  # the engine's own apps (every app's conformance: test_gui_apps.py)


@pytest.fixture(scope="module")
def published(tmp_path_factory, prefect_server):
    root = tmp_path_factory.mktemp("gui")
    apps = list(APPS)
    config = {
        "dataset": "gui_e2e",
        "seed": 4,
        "shard_size": 8,
        "workers": 2,
        "synth": {"gui": [{"family": a, "count": COUNT, "difficulties": [1, 3, 5], "tiers": TIERS} for a in apps]},
        "retrieve": {"enabled": False},
        "corrupt": {"operators": ["drop_step"], "fraction": 0.2},
    }
    path = root / "gui.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["--store", str(root / "store"), "run", str(path)]) == 0
    return Store(root / "store"), root / "store", apps


def test_success_by_app_and_tier_in_sql(published, capsys):
    _, root, apps = published
    sql = (
        "SELECT task.family AS app, policy.tier AS tier, count(*) AS n, avg(outcome.success::INT) AS success, "
        "min(first_error_step) AS first_error FROM \"gui_e2e@latest\" WHERE split = 'train' GROUP BY ALL ORDER BY ALL"
    )
    capsys.readouterr()
    assert main(["--store", str(root), "catalog", "query", "-f", "json", sql]) == 0
    rows = {(r["app"], r["tier"]): r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {(a, t) for a in apps for t in TIERS}
    assert sum(r["n"] for r in rows.values()) == COUNT * len(apps)
    for a in apps:
        assert rows[(a, "expert")]["success"] == 1.0 and rows[(a, "expert")]["first_error"] == -1
        assert rows[(a, "reflective")]["success"] == 1.0 and rows[(a, "reflective")]["first_error"] >= 0
        assert rows[(a, "noisy")]["success"] == 0.0 and rows[(a, "noisy")]["first_error"] >= 0


def test_screenshots_are_in_blobs_and_referenced(published):
    store, _, _ = published
    rows = from_table(store.read("gui_e2e@latest"))
    refs = set()
    for t in rows:
        assert t.kind == "gui" and t.initial_observation.image_ref is not None
        refs.add(t.initial_observation.image_ref)
        for step in t.steps:
            assert step.observation.image_ref is not None
            refs.add(step.observation.image_ref)
    blobs = store.read("gui_e2e@latest", table="blobs")
    assert set(blobs["id"].to_pylist()) == refs
    assert set(blobs["media_type"].to_pylist()) == {"image/png"}
    assert all(b.startswith(b"\x89PNG") for b in blobs["bytes"].to_pylist())
    corrupt = [t for t in rows if t.split == "corrupt"]
    assert corrupt and all(t.corruption.operator == "drop_step" for t in corrupt)
    tasks = pc.struct_field(store.read("gui_e2e@latest")["task"], "id").to_pylist()
    train = [t.task.id for t in rows if t.split == "train"]
    assert len(set(train)) == len(train) and set(tasks) >= set(train)
