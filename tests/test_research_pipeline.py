"""End to end: `trajforge run` with a research config publishes the corpus version and a
trajectory version whose lineage names it; SQL reads accuracy and evidence recall."""

import json

import pytest
import yaml

from flows.cli import main
from stores.schema import from_table
from stores.store import Store

CONFIG = {
    "dataset": "deep",
    "seed": 4,
    "shard_size": 40,
    "workers": 2,  # shards in worker processes, each opening the corpus from the store
    "synth": {
        "research": [{
            "family": "multihop", "count": 120, "difficulties": [1, 2, 3, 4, 5],
            "tiers": {"expert": 0.4, "reflective": 0.2, "noisy": 0.2, "random": 0.2},
            "params": {"corpus": {"name": "world800", "generate": {"size": 800, "seed": 2}},
                       "context": {"every": 10}},
        }],
    },
    "retrieve": {"k": 3, "dim": 64},
    "corrupt": {"fraction": 0.1},
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory, prefect_server):
    root = tmp_path_factory.mktemp("research")
    codes = []
    for i, workers in enumerate((2, 1)):  # the rerun in-process: same rows as the worker processes made
        path = root / f"research{i}.yaml"
        path.write_text(yaml.safe_dump({**CONFIG, "workers": workers}))
        codes.append(main(["--store", str(root / "store"), "run", str(path)]))
    return Store(root / "store"), codes, root


def test_the_corpus_is_published_once_and_named_as_lineage(ran):
    store, codes, _ = ran
    assert codes == [0, 0]
    assert [v.version for v in store.versions("world800")] == ["v1"]  # the second run reuses it
    corpus = store.resolve("world800@v1")
    assert corpus.kind == "corpus" and corpus.rows == 800
    fingerprint = corpus.manifest["params"]["corpus"]["fingerprint"]
    v1, v2 = store.versions("deep")
    world = {"dataset": "world800", "version": "v1", "role": "corpus",
             "manifest_sha256": store.resolve("world800@v1").manifest_sha256}
    assert v1.manifest["parents"] == [world]
    assert world in v2.manifest["parents"]
    assert v2.manifest["params"]["config"]["synth"]["research"][0]["params"]["corpus"]["name"] == "world800"
    rows = from_table(store.read(v2))
    assert {json.dumps(t.task.env["corpus"], sort_keys=True) for t in rows} == {
        json.dumps({"fingerprint": fingerprint, "ref": "world800@v1"}, sort_keys=True)}
    assert store.read(v1)["id"].to_pylist() == store.read(v2)["id"].to_pylist()  # same seed, same rows
    train = [t for t in rows if t.split == "train"]
    assert len({t.task.id for t in train}) == len(train) >= 110
    assert any(s.action.name == "context.summarize" for t in train for s in t.steps)


def test_accuracy_and_evidence_recall_by_tier_and_hops_in_sql(ran, capsys):
    store, _, _ = ran
    sql = ("SELECT policy.tier AS tier, (task.reference->>'hops')::INT AS hops, count(*) AS n, "
           "avg(outcome.success::INT) AS accuracy, avg(scores['evidence_recall']) AS recall, "
           "avg(scores['evidence_found']) AS found FROM \"deep@latest\" WHERE split = 'train' "
           "GROUP BY ALL ORDER BY ALL")
    capsys.readouterr()
    assert main(["--store", str(store.root), "catalog", "query", "-f", "json", sql]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["tier"] for r in rows} == {"expert", "reflective", "noisy", "random"}
    assert {r["hops"] for r in rows} == {2, 3, 4}
    for r in rows:
        assert set(r) == {"tier", "hops", "n", "accuracy", "recall", "found"}
        if r["tier"] in ("expert", "reflective"):
            assert r["accuracy"] == 1.0 and r["recall"] == 1.0 and r["found"] == 1.0, r
        if r["tier"] == "noisy":
            assert r["accuracy"] == 0.0 and 0.0 <= r["recall"] < 1.0, r
    lineage = ("SELECT parent_dataset, parent_version, role FROM lineage WHERE dataset = 'deep' "
               "AND version = 'v1'")
    assert main(["--store", str(store.root), "catalog", "query", "-f", "json", lineage]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"parent_dataset": "world800", "parent_version": "v1", "role": "corpus"}]


def test_corpus_commands_and_bad_params(ran, capsys):
    store, _, root = ran
    s = ["--store", str(store.root)]
    capsys.readouterr()
    assert main([*s, "corpus", "show", "world800@v1", "--search", "founded by", "--topn", "2"]) == 0
    out = capsys.readouterr().out
    assert '"documents": 800' in out and "[1]" in out and "[2]" in out
    assert main([*s, "corpus", "show", "deep@v1"]) == 1
    assert "holds trajectories, not a corpus" in capsys.readouterr().err
    bad = root / "bad.yaml"
    bad.write_text(yaml.safe_dump({**CONFIG, "synth": {"research": [{
        "family": "multihop", "count": 5, "params": {"corpus": {"name": "x"}}}]}}))
    assert main([*s, "run", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "synth.research.multihop" in err and "exactly one of 'ref'" in err
