"""End to end: the real Prefect pipeline, twice, then the catalog, the CLI and the HF export."""

import json

import datasets
import pyarrow.compute as pc
import pytest
import yaml

from catalog.catalog import Catalog
from flows.cli import main
from stores.schema import from_table
from stores.store import Store

CONFIG = {
    "dataset": "e2e",
    "seed": 3,
    "shard_size": 40,
    "synth": {
        "reasoning": [{"family": "maze", "count": 80, "difficulties": [1, 2, 3], "tiers": {"expert": 0.6, "noisy": 0.4}}],
        "gui": [{"family": "form", "count": 80, "difficulties": [1, 3, 5], "tiers": {"expert": 0.6, "noisy": 0.4}}],
        "research": [{"family": "multihop", "count": 80, "tiers": {"expert": 0.6, "noisy": 0.4},
                      "params": {"corpus": {"name": "e2e-world", "generate": {"size": 400, "seed": 1}}}}],
    },
    "retrieve": {"k": 3, "dim": 64},
    "corrupt": {"operators": ["swap_adjacent", "drop_step"], "fraction": 0.25},
    "publish": {"tags": ["nightly"]},
}


@pytest.fixture(scope="module")
def run_twice(tmp_path_factory, prefect_server):
    root = tmp_path_factory.mktemp("e2e")
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    store_root = root / "store"
    codes = [main(["--store", str(store_root), "run", str(config)]) for _ in range(2)]
    return Store(store_root), codes, root


def test_two_runs_publish_two_identical_versions(run_twice):
    store, codes, _ = run_twice
    assert codes == [0, 0]
    v1, v2 = store.versions("e2e")
    a, b = store.read(v1), store.read(v2)
    assert a["id"].to_pylist() == b["id"].to_pylist()  # determinism: same config + seed
    assert a.drop_columns(["provenance"]).equals(b.drop_columns(["provenance"]))
    assert store.tags("e2e") == {"latest": "v2", "nightly": "v2"}
    world = store.resolve("e2e-world@v1")
    corpus = {"dataset": "e2e-world", "version": "v1", "role": "corpus",  # built by run 1, reused by run 2
              "manifest_sha256": world.manifest_sha256}
    assert v1.manifest["parents"] == [corpus]
    assert v2.manifest["parents"] == [corpus, {"dataset": "e2e", "version": "v1", "role": "retrieval",
                                               "manifest_sha256": v1.manifest_sha256}]
    assert {f["path"] for f in v2.manifest["files"]} >= {"index/trajectories.faiss", "retrieval/neighbors.parquet"}
    for v in (v1, v2):
        assert store.verify(v.ref) == []


def test_every_kind_tier_and_the_corrupt_split(run_twice):
    store, _, _ = run_twice
    rows = from_table(store.read("e2e@latest"))
    train = [t for t in rows if t.split == "train"]
    assert {(t.kind, t.policy.tier) for t in train} == {
        (k, tier) for k in ("reasoning", "gui", "research") for tier in ("expert", "noisy")
    }
    assert len(train) >= 3 * 80 - 10  # only exact duplicates (tiny mazes) are dropped
    for t in train:
        assert t.scores["verifier"] == float(t.outcome.success)
        if t.policy.tier == "expert":
            assert t.outcome.success and t.first_error_step == -1
        else:
            assert not t.outcome.success and t.first_error_step is not None and t.first_error_step >= 0
    corrupt = [t for t in rows if t.split == "corrupt"]
    assert len(corrupt) >= 40
    ids = {t.id for t in train}
    for t in corrupt:
        assert t.corruption.operator in ("swap_adjacent", "drop_step") and t.corruption.source_id in ids
        assert t.corruption.steps and len(t.step_scores["prefix_correct"]) == len(t.steps)
    assert sum(t.first_error_step is not None and t.first_error_step >= 0 for t in corrupt) >= len(corrupt) // 2
    counts = store.versions("e2e")[-1].manifest["params"]["run"]["corrupt"]  # skips are counted, not hidden
    assert sum(counts["corrupted"].values()) >= len(corrupt) and set(counts["corrupted"]) == {"swap_adjacent", "drop_step"}


def test_catalog_sql_over_the_published_version(run_twice):
    store, _, _ = run_twice
    result = Catalog(store).query(
        "SELECT kind, policy.tier AS tier, count(*) AS n, avg(scores['verifier']) AS success "
        "FROM \"e2e@latest\" WHERE split = 'train' GROUP BY ALL ORDER BY kind, tier"
    )
    assert [(k, t) for k, t, _, _ in result.rows] == [
        (k, t) for k in ("gui", "reasoning", "research") for t in ("expert", "noisy")
    ]
    assert all(s == (1.0 if t == "expert" else 0.0) for _, t, _, s in result.rows)
    assert Catalog(store).query("SELECT count(*) FROM lineage WHERE role = 'retrieval'").rows == [(1,)]


def test_cli_commands(run_twice, capsys):
    store, _, root = run_twice
    s = ["--store", str(store.root)]
    capsys.readouterr()
    assert main([*s, "datasets", "verify", "e2e@v1"]) == 0
    assert main([*s, "datasets", "diff", "e2e@v1", "e2e@v2"]) == 0
    v2 = store.resolve("e2e@v2")
    assert f"added 0, removed 0, unchanged {v2.rows}" in capsys.readouterr().out
    assert main([*s, "datasets", "tag", "e2e@v1", "stable"]) == 0
    assert main([*s, "catalog", "query", "--format", "json",
                 "SELECT tag, version FROM tags WHERE dataset = 'e2e' ORDER BY tag"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1]) == [
        {"tag": "latest", "version": "v2"}, {"tag": "nightly", "version": "v2"}, {"tag": "stable", "version": "v1"}
    ]
    assert main([*s, "catalog", "query", "-f", "csv", 'SELECT count(*) AS n FROM "e2e@stable"']) == 0
    assert capsys.readouterr().out.splitlines() == ["n", str(store.resolve("e2e@v1").rows)]
    for args in (["datasets", "list"], ["datasets", "versions", "e2e"], ["datasets", "show", "e2e@stable"],
                 ["catalog", "rebuild"]):
        assert main([*s, *args]) == 0
    assert main([*s, "catalog", "query", "DROP TABLE versions"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert main([*s, "datasets", "show", "e2e@v99"]) == 1
    err = capsys.readouterr().err
    assert "e2e@v99 does not exist" in err and "Traceback" not in err


def test_hf_export_loads_with_datasets(run_twice):
    store, _, root = run_twice
    out = root / "hf"
    assert main(["--store", str(store.root), "export", "hf", "e2e@latest", str(out)]) == 0
    table = store.read("e2e@latest")
    card = (out / "README.md").read_text()
    assert "config_name: reasoning" in card and "e2e@v2" in card
    for kind in ("reasoning", "gui", "research"):
        of_kind = table.filter(pc.equal(table["kind"], kind))
        ds = datasets.load_dataset(str(out), kind)
        assert set(ds) == {"train", "corrupt"}
        assert sum(ds[s].num_rows for s in ds) == of_kind.num_rows
        assert sorted([*ds["train"]["id"], *ds["corrupt"]["id"]]) == sorted(of_kind["id"].to_pylist())
        assert ds["train"].features["steps"].feature["action"]["arguments"].dtype == "string"
    assert main(["--store", str(store.root), "export", "hf", "e2e@latest", str(out)]) == 1  # not empty
