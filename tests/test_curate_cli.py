"""The curation commands end to end: two datasets, retrieval across both, dedup,
decontamination and index build/search/stats, each publishing or writing what it says."""

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from flows.cli import main
from stores.store import Store
from tests.generated import family_shard, family_table, mixed_table


@pytest.fixture
def cli_store(tmp_path):
    store = Store(tmp_path / "store")
    rows, blobs = family_shard("form", 20)
    store.publish("runs-a", pa.concat_tables([mixed_table(("arithmetic", "maze"), 40), rows]), blobs=blobs)
    store.publish("runs-b", mixed_table(("arithmetic", "lis"), 40, seed=1))
    store.publish("target", family_table("arithmetic", 5, seed=9))
    return store


def _run(store, *args) -> int:
    return main(["--store", str(store.root), *args])


def test_retrieve_publishes_the_most_similar_rows_of_both_datasets(cli_store, capsys):
    assert _run(cli_store, "retrieve", "--query", "target@v1", "--from", "all", "--out", "arith", "--top-k", "50") == 0
    info = cli_store.resolve("arith@v1")
    rows = cli_store.read(info)
    families = pc.struct_field(rows["task"], "family").to_pylist()
    assert rows.num_rows == 50 and families.count("arithmetic") >= 48
    parents = {(p["dataset"], p["role"]) for p in info.manifest["parents"]}
    assert parents == {("runs-a", "retrieval"), ("runs-b", "retrieval"), ("target", "query")}
    assert info.manifest["params"]["retrieval"]["embedder"] == "hashing@1/256"
    assert capsys.readouterr().out.strip().endswith("arith@v1")


def test_bad_retrieval_input_publishes_nothing(cli_store, capsys):
    assert _run(cli_store, "retrieve", "--query", "target@v1", "--from", "nope", "--out", "x", "--top-k", "3") == 1
    assert _run(cli_store, "retrieve", "--query", "target@v1", "--from", "runs-a", "--out", "x",
                "--threshold", "-2") == 1
    assert _run(cli_store, "retrieve", "--query", "target@v1", "--from", "runs-a", "--out", "x", "--top-k", "3",
                "--embedder", "/no/such/model") == 1
    err = capsys.readouterr().err
    assert "'nope' does not exist" in err and "outside [-1, 1]" in err and "unknown embedder '/no/such/model'" in err
    assert "x" not in cli_store.datasets()


def test_dedup_and_decontaminate_commands(cli_store, tmp_path, capsys):
    assert _run(cli_store, "dedup", "--from", "runs-a", "--from", "runs-a", "--from", "runs-b", "--out", "dd",
                "--method", "normalised") == 0
    info = cli_store.resolve("dd@v1")
    assert (info.path / "dedup" / "removed.parquet").exists()
    assert {p["role"] for p in info.manifest["parents"]} == {"dedup"}
    # the runs-a rows named twice were exact duplicates: identical rows are kept, nothing to restore
    assert _run(cli_store, "undedup", "dd@v1") == 1
    assert "nothing to restore from dd@v1" in capsys.readouterr().err and cli_store.version_ids("dd") == ["v1"]
    leaked = cli_store.read("runs-b@v1")["task"][3]["instruction"].as_py()
    evals = tmp_path / "eval.jsonl"
    evals.write_text(json.dumps({"id": "e1", "text": leaked}) + "\n")
    assert _run(cli_store, "decontaminate", "--from", "runs-b", "--eval", str(evals), "--out", "clean") == 0
    clean = cli_store.resolve("clean@v1")
    assert clean.rows == cli_store.resolve("runs-b@v1").rows - 1
    assert (clean.path / "decontam" / "matches.parquet").exists()


def test_index_build_search_stats(cli_store, capsys):
    assert _run(cli_store, "index", "build", "runs-a@v1", "--view", "step") == 0
    built = json.loads(capsys.readouterr().out)
    assert built["kind"] == "flat" and built["view"] == "step" and built["embedder"] == "hashing@1/256"
    assert _run(cli_store, "index", "search", "runs-a@v1", "click the submit button", "--view", "step", "--k", "3") == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert len(hits) == 3 and all("#" in h["id"] for h in hits)  # step ids: trajectory#index
    assert _run(cli_store, "index", "stats", "runs-a@v1") == 0
    stats = json.loads(capsys.readouterr().out)
    assert [i["view"] for i in stats["indexes"]] == ["step"] and stats["embeddings"][0]["view"] == "step"
    assert _run(cli_store, "index", "search", "runs-a@v1", "x", "--view", "task") == 1
    assert "indexed ids: none" in capsys.readouterr().err
