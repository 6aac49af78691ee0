import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.dedup import exact_dedup
from filters.scorers import score_table
from stores.embeddings import HashingEmbedder
from stores.retrieval import build_index, retrieve
from stores.schema import from_table, validate_table
from stores.vector_index import VectorIndex
from tests.factories import make_table


def test_exact_dedup_keeps_first_occurrence():
    t = make_table(10)
    doubled = pa.concat_tables([t, t.slice(3, 4)])
    out, dropped = exact_dedup(doubled)
    assert dropped == 4 and out["id"].to_pylist() == t["id"].to_pylist()


def test_scores_follow_outcome_and_first_error():
    t = score_table(make_table(30))
    validate_table(t)
    for tr in from_table(t):
        assert tr.scores["verifier"] == (1.0 if tr.outcome.success else 0.0)
        labels = tr.step_scores["prefix_correct"]
        assert len(labels) == len(tr.steps)
        fe = tr.first_error_step
        assert labels == [1.0 if fe == -1 or i < fe else 0.0 for i in range(len(tr.steps))]


def test_hashing_embedder_is_deterministic_and_normalised():
    e = HashingEmbedder(64)
    a = e.embed(["find the shortest path", "fill the form", ""])
    assert np.array_equal(a, HashingEmbedder(64).embed(["find the shortest path", "fill the form", ""]))
    assert np.allclose(np.linalg.norm(a[:2], axis=1), 1.0) and not a[2].any()


def test_index_roundtrip_and_retrieval_finds_identical_tasks(store):
    t = make_table(40)
    e = HashingEmbedder(128)
    index = build_index(t, e)
    files = index.to_files()
    again = VectorIndex.from_files(*files.values())
    assert again.ids == t["id"].to_pylist() and again.index.ntotal == 40
    prior = store.publish("prior", t, files=files)
    query = t.slice(5, 10)
    neighbors, best = retrieve(store, query, prior, e, k=3)
    assert neighbors.num_rows == 30
    top = neighbors.filter(pc.equal(neighbors["rank"], 0))
    assert top["neighbor_id"].to_pylist() == query["id"].to_pylist()
    assert all(abs(b - 1.0) < 1e-5 for b in best)
    assert set(neighbors["source"].to_pylist()) == {"prior@v1"}


def test_ivf_index_agrees_with_exact_search():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [str(i) for i in range(3000)]
    ivf = VectorIndex.build(x, ids, "test", flat_below=1000)
    flat = VectorIndex.build(x, ids, "test")
    assert type(ivf.index).__name__ == "IndexIVFFlat"
    _, a = ivf.search(x[:200], 1)
    _, b = flat.search(x[:200], 1)
    assert (a[:, 0] == b[:, 0]).mean() >= 0.95
