"""Behaviour retrieval: from every row of the sources, those closest to a few examples."""

import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from stores.embeddings import HashingEmbedder
from stores.retrieval import (
    MATCHES_FILE,
    RetrievalError,
    Selection,
    behaviour_retrieval,
    publish_retrieval,
    query_from_table,
    resolve_query,
    resolve_sources,
)
from tests.generated import family_shard, family_table, mixed_table

E = HashingEmbedder(256)


@pytest.fixture
def two_datasets(store):
    rows_a, blobs_a = family_shard("form", 30)
    a = store.publish("prior-a", pa.concat_tables([mixed_table(("arithmetic", "maze", "lis"), 30), rows_a]),
                      blobs=blobs_a)
    b = store.publish("prior-b", mixed_table(("arithmetic", "game24", "topo_sort"), 30, seed=1))
    return a, b


def _families(rows: pa.Table) -> list[str]:
    return pc.struct_field(rows["task"], "family").to_pylist()


def test_examples_of_one_family_retrieve_that_family_from_both_datasets(store, two_datasets):
    a, b = two_datasets
    examples = family_table("arithmetic", 5, seed=7)
    query = query_from_table(examples, "trajectory", E)
    rows, matches = behaviour_retrieval(store, query, [a, b], E, Selection(top_k=40))
    assert rows.num_rows == 40 and _families(rows).count("arithmetic") >= 38
    assert set(matches["source"].to_pylist()) == {a.ref, b.ref}
    sims = matches["similarity"].to_pylist()
    assert sims == sorted(sims, reverse=True)
    assert set(matches["query_id"].to_pylist()) <= set(examples["id"].to_pylist())
    scores = [{s["name"]: s["value"] for s in r} for r in rows["scores"].to_pylist()]
    assert [s["retrieval_similarity"] for s in scores] == pytest.approx(sims)


def test_threshold_per_family_and_mean_scoring(store, two_datasets):
    a, b = two_datasets
    query = query_from_table(pa.concat_tables([family_table("maze", 3, seed=9), family_table("lis", 3, seed=9)]),
                             "task", E)
    rows, matches = behaviour_retrieval(store, query, [a, b], E, Selection(top_k=5, per="family"), view="task")
    counts = {f: _families(rows).count(f) for f in set(_families(rows))}
    assert all(c <= 5 for c in counts.values()) and counts.get("maze") == 5 and counts.get("lis") == 5
    strict, _ = behaviour_retrieval(store, query, [a, b], E, Selection(threshold=0.9), view="task")
    loose, _ = behaviour_retrieval(store, query, [a, b], E, Selection(threshold=0.5), view="task")
    assert set(strict["id"].to_pylist()) <= set(loose["id"].to_pylist())
    _, mean = behaviour_retrieval(store, query, [a, b], E, Selection(top_k=10, scoring="mean", score_k=3), view="task")
    best, _ = behaviour_retrieval(store, query, [a, b], E, Selection(top_k=10), view="task")
    assert mean["similarity"][0].as_py() <= 1.0 and mean.num_rows == 10 and best.num_rows == 10


def test_a_version_as_query_is_left_out_and_named_in_lineage(store, two_datasets):
    a, b = two_datasets
    store.publish("target", family_table("lis", 4, seed=3))
    sources = resolve_sources(store, ["prior-*"])
    assert [s.ref for s in sources] == [a.ref, b.ref]
    query, query_info = resolve_query(store, "target@v1", sources, "trajectory", E)
    assert query_info.ref == "target@v1"
    rows, matches = behaviour_retrieval(store, query, sources, E, Selection(top_k=10))
    info = publish_retrieval(store, "retrieved", rows, matches, sources, query_info, {"k": 10})
    assert [(p["dataset"], p["role"]) for p in info.manifest["parents"]] == [
        ("prior-a", "retrieval"), ("prior-b", "retrieval"), ("target", "query")]
    stored = pq.read_table(info.path / MATCHES_FILE)
    assert stored["id"].to_pylist() == store.read(info)["id"].to_pylist()
    assert set(_families(store.read(info))) == {"lis"}
    assert resolve_sources(store, ["all"], exclude=("retrieved", "target")) == sources


def test_query_by_ids_and_by_file(store, two_datasets, tmp_path):
    a, b = two_datasets
    ids = store.read(a, ["id"])["id"].to_pylist()[:2]
    query, _ = resolve_query(store, "ids:" + ",".join(ids), [a, b], "trajectory", E)
    rows, _ = behaviour_retrieval(store, query, [a, b], E, Selection(top_k=5))
    assert set(rows["id"].to_pylist()).isdisjoint(ids)
    path = tmp_path / "examples.jsonl"
    path.write_text(json.dumps({"id": "ex1", "prompt": "Find a path through this maze from S to G."}) + "\n")
    query, _ = resolve_query(store, str(path), [a, b], "task", E, field="prompt")
    rows, matches = behaviour_retrieval(store, query, [a, b], E, Selection(top_k=3), view="task")
    assert set(_families(rows)) == {"maze"} and set(matches["query_id"].to_pylist()) == {"ex1"}
    traj = tmp_path / "examples.parquet"
    pq.write_table(family_table("game24", 2, seed=5), traj)
    query, _ = resolve_query(store, str(traj), [a, b], "task", E)
    rows, _ = behaviour_retrieval(store, query, [a, b], E, Selection(top_k=3), view="task")
    assert set(_families(rows)) == {"game24"}


def test_bad_retrieval_requests(store, two_datasets, tmp_path):
    a, b = two_datasets
    with pytest.raises(RetrievalError, match="outside \\[-1, 1\\]"):
        Selection(threshold=1.5).check()
    with pytest.raises(RetrievalError, match="threshold, a top k, or both"):
        Selection().check()
    with pytest.raises(RetrievalError, match="per 'family' caps the rows kept per group: give a top k"):
        Selection(threshold=0.5, per="family").check()
    with pytest.raises(RetrievalError, match="names a file, not there: give a .jsonl or .parquet"):
        resolve_query(store, str(tmp_path / "examples.json"), [a], "task", E)
    with pytest.raises(RetrievalError, match="'nosuch' does not exist"):
        resolve_sources(store, ["nosuch"])
    with pytest.raises(RetrievalError, match="query version 'nosuch@v1' does not exist"):
        resolve_query(store, "nosuch@v1", [a], "task", E)
    with pytest.raises(RetrievalError, match="query ids \\['zzz'\\] are in none"):
        resolve_query(store, "ids:zzz", [a], "task", E)
    with pytest.raises(RetrievalError, match="empty"):
        resolve_query(store, "ids:", [a], "task", E)
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "x"}) + "\n")
    with pytest.raises(RetrievalError, match="no string field 'text'"):
        resolve_query(store, str(path), [a], "task", E)
    query, _ = resolve_query(store, "text:find a path", [a], "task", E)
    assert query.ids == ["text"]
    with pytest.raises(RetrievalError, match="nothing was retrieved"):
        rows, matches = behaviour_retrieval(store, query, [a], E, Selection(threshold=0.999), view="task")
        publish_retrieval(store, "out", rows, matches, [a], None, {})
    assert "out" not in store.datasets()
