"""Embedders, text views, the per-version embedding cache and measured-recall indexes."""

import json
import shutil

import numpy as np
import pytest

from stores.derived import DerivedError, derived_dir, embeddings, existing_ids, index
from stores.embeddings import EmbedderError, HashingEmbedder, make_embedder, packaged_minilm_path
from stores.text_views import ViewError, view_texts
from stores.vector_index import VectorIndex, VectorIndexError
from tests.factories import make_table
from tests.generated import mixed_table


def test_views_name_what_they_embed():
    t = make_table(3)
    ids, task = view_texts(t, "task")
    assert ids == t["id"].to_pylist() and task[0] == "toy: " + t["task"][0]["instruction"].as_py()
    _, traj = view_texts(t, "trajectory")
    first = t["steps"][0].as_py()[0]
    assert traj[0].startswith(t["task"][0]["instruction"].as_py())
    assert f"{first['thought']} {first['action']['name']}({first['action']['arguments']})" in traj[0]
    step_ids, steps = view_texts(t, "step")
    n_steps = sum(len(s) for s in t["steps"].to_pylist())
    assert len(step_ids) == len(steps) == n_steps and step_ids[0] == f"{ids[0]}#0"
    assert steps[0] == f"{first['observation']['text']}\naction: move({first['action']['arguments']})"
    _, cut = view_texts(t, "trajectory", budget=3)
    assert all(len(text.split()) <= 3 for text in cut)


def test_view_errors_are_clear():
    with pytest.raises(ViewError, match="unknown text view 'episode'"):
        view_texts(make_table(2), "episode")
    with pytest.raises(ViewError, match="lacks \\['steps'\\]"):
        view_texts(make_table(2).select(["id", "task"]), "trajectory")


def test_embedder_specs_and_ids():
    assert make_embedder("hashing").id == "hashing@1/256"
    assert make_embedder("hashing-64").id == "hashing@1/64"
    assert make_embedder("hashing-64").embed([]).shape == (0, 64)
    with pytest.raises(EmbedderError, match="unknown embedder 'bert-large'.*hashing.*minilm"):
        make_embedder("bert-large")
    with pytest.raises(EmbedderError, match="8..8192"):
        make_embedder("hashing-3")


def test_a_folder_without_a_model_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(EmbedderError, match="no config.json"):
        make_embedder(str(tmp_path))


def test_packaged_minilm_embeds_offline_and_a_copy_shares_its_id(tmp_path):
    e = make_embedder("minilm")
    v = e.embed(["find a path through the maze", "find a route through this maze", "sign up a new user"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2  # paraphrases closer than unrelated tasks
    assert e.id.startswith("all-minilm-l6-v2@pypi-") and e.id.endswith("/384")
    copy = tmp_path / "my-minilm"
    shutil.copytree(packaged_minilm_path(), copy)
    local = make_embedder(str(copy))
    assert local.id.endswith("/384") and local.id == make_embedder(str(copy)).id
    assert np.allclose(local.embed(["sign up a new user"]), v[2], atol=1e-5)


def test_embeddings_are_cached_per_version_view_and_embedder(store):
    info = store.publish("d", make_table(30))
    e = HashingEmbedder(64)
    first = embeddings(store, info, "task", e)
    meta = derived_dir(store, info) / "embeddings" / "task" / "hashing@1-64.json"
    assert meta.exists() and json.loads(meta.read_text())["rows"] == 30
    again = embeddings(store, info, "task", e, build=False)
    assert again.ids == first.ids and np.array_equal(np.asarray(again.vectors), first.vectors)
    with pytest.raises(DerivedError, match=r"no 'task' embeddings under hashing@1/32; computed ids: \['hashing@1/64'\]"):
        embeddings(store, info, "task", HashingEmbedder(32), build=False)
    embeddings(store, info, "step", e)
    assert existing_ids(store, info, "embeddings", "step") == ["hashing@1/64"]


def test_index_search_with_another_embedder_lists_the_ids(store):
    info = store.publish("d", make_table(30))
    built = index(store, info, "trajectory", HashingEmbedder(64), build=True)
    assert built.meta["kind"] == "flat" and built.meta["recall_at_10"] == 1.0
    with pytest.raises(DerivedError, match=r"under embedder hashing@1/128; indexed ids: \['hashing@1/64'\]"):
        index(store, info, "trajectory", HashingEmbedder(128))


def test_ivf_recall_is_measured_and_written_into_the_metadata(store):
    table = mixed_table(("arithmetic", "maze", "game24", "hanoi", "lis", "topo_sort"), 200)
    info = store.publish("gen", table)
    built = index(store, info, "trajectory", HashingEmbedder(128), build=True, kind="ivf", target_recall=0.9)
    meta = json.loads((derived_dir(store, info) / "index" / "trajectory" / "hashing@1-128.json").read_text())
    assert meta["kind"] == "ivf" and meta["recall_at_10"] >= 0.9 and meta["nprobe"] >= 1
    assert meta["recall_sample"] == 500 and meta["version"] == "gen@v1"
    # the recorded recall is what a fresh measurement against exact search gives
    vectors = np.asarray(embeddings(store, info, "trajectory", HashingEmbedder(128), build=False).vectors)
    exact = VectorIndex.build(vectors, built.ids, "e", kind="flat")
    rng = np.random.default_rng(7)
    rows = rng.choice(len(vectors), 300, replace=False)
    s_exact, _ = exact.search(vectors[rows], 11)
    s_ivf, _ = built.search(vectors[rows], 11)
    kth = s_exact[:, 10:11] - 1e-5
    assert (np.minimum((s_ivf >= kth).sum(1), 11) / 11).mean() >= 0.85


def test_a_child_that_extends_its_parent_reuses_its_index(store):
    table = mixed_table(("arithmetic", "maze", "lis"), 200)
    parent = store.publish("gen", table.slice(0, 400))
    child = store.publish("gen", table, parents=[{"ref": parent.ref, "role": "parent"}])
    e = HashingEmbedder(64)
    first = index(store, parent, "task", e, build=True, kind="ivf")
    grown = index(store, child, "task", e, build=True, kind="ivf", parent=parent)
    assert grown.meta["extends"] == "gen@v1" and grown.meta["extended_by"] == 200
    assert grown.ids[:400] == first.ids and grown.index.ntotal == 600
    assert grown.index.nlist == first.index.nlist  # the parent's trained lists, not a new training
    # the recall is measured again on the grown index, over parent and child rows alike
    assert grown.meta["recall_sample"] == 500 and grown.meta["recall_at_10"] >= 0.95
    vectors = np.asarray(embeddings(store, child, "task", e, build=False).vectors)
    truth = np.sort(vectors @ vectors.T, axis=1)[:, ::-1][:, 1:11]  # exact top 10 besides the row itself
    found, _ = grown.search(vectors, 11)
    hits = np.minimum((found[:, 1:] >= truth[:, 9:10] - 1e-5).sum(axis=1), 10)
    assert hits.mean() / 10 >= grown.meta["recall_at_10"] - 0.05


def test_bad_index_requests():
    x = np.eye(4, dtype=np.float32)
    with pytest.raises(VectorIndexError, match="4 vectors but 3 ids"):
        VectorIndex.build(x, ["a", "b", "c"], "e")
    with pytest.raises(VectorIndexError, match="unknown index kind 'lsh'"):
        VectorIndex.build(x, list("abcd"), "e", kind="lsh")
    flat = VectorIndex.build(x, list("abcd"), "e")
    with pytest.raises(VectorIndexError, match="do not match the index dimension 4"):
        flat.search(np.zeros((1, 3), dtype=np.float32), 2)


def test_hnsw_is_tuned_the_same_way():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    built = VectorIndex.build(x, [str(i) for i in range(3000)], "e", kind="hnsw", target_recall=0.9)
    assert built.meta["kind"] == "hnsw" and built.meta["recall_at_10"] >= 0.9 and built.meta["efSearch"] >= 16
    files = built.to_files()
    again = VectorIndex.from_files(*files.values())
    assert again.index.hnsw.efSearch == built.meta["efSearch"] and again.meta["recall_at_10"] == built.meta["recall_at_10"]



def test_ivfpq_reranks_to_the_target_and_keeps_its_settings():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((200, 32))
    x = (centres[rng.integers(0, 200, 8000)] + 0.6 * rng.standard_normal((8000, 32))).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    built = VectorIndex.build(x, [str(i) for i in range(8000)], "e", kind="ivfpq", target_recall=0.95)
    assert built.meta["recall_at_10"] >= 0.95 and built.meta["k_factor"] >= 8
    again = VectorIndex.from_files(*built.to_files().values())
    assert again.index.k_factor == built.meta["k_factor"]
    with pytest.raises(VectorIndexError, match="divisible by 4"):
        VectorIndex.build(x[:, :30].copy(), [str(i) for i in range(8000)], "e", kind="ivfpq")


def test_embedder_ids_differing_after_a_dot_keep_apart(store):
    info = store.publish("d", make_table(12))

    class Versioned:  # two releases of one model: ids equal up to the last dot
        dim = 16

        def __init__(self, version):
            self.id = f"model@pypi-0.1.{version}/16"

        def embed(self, texts):
            return HashingEmbedder(16).embed(texts)

    embeddings(store, info, "task", Versioned(0))
    embeddings(store, info, "task", Versioned(1))
    assert existing_ids(store, info, "embeddings", "task") == ["model@pypi-0.1.0/16", "model@pypi-0.1.1/16"]
