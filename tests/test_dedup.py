"""Dedup quality on generated data with planted duplicates, and dedup versions."""

import dataclasses
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filters.dedup import (
    REMOVED_FILE,
    RESTORED_FILE,
    DedupError,
    dedup_versions,
    minhash_dedup,
    normalised_dedup,
    preference,
    semantic_dedup,
    undo_dedup,
)
from filters.minhash import MinHashError, MinHashSettings, shingle_hashes
from stores.blobs import image_refs
from stores.derived import embeddings
from stores.embeddings import HashingEmbedder
from stores.schema import from_table, to_table
from tests.generated import edited_copies, family_shard, family_table, mixed_table

FAMILIES = ("arithmetic", "maze", "lis", "game24", "topo_sort", "form")


def _quality(removed: pa.Table, truth: dict[str, str]) -> tuple[float, float]:
    """(recall over planted copies, precision over all removals)."""
    pairs = {frozenset(p) for p in truth.items()}
    hits = [frozenset((r["removed_id"], r["kept_id"])) in pairs for r in removed.to_pylist()]
    found = {frozenset((r["removed_id"], r["kept_id"])) for r in removed.to_pylist()} & pairs
    return len(found) / len(pairs), (sum(hits) / len(hits) if hits else 1.0)


def test_minhash_finds_edited_copies_at_high_precision():
    table, truth = edited_copies(mixed_table(FAMILIES, 60), every=3)
    result = minhash_dedup(table)
    recall, precision = _quality(result.removed, truth)
    assert recall >= 0.95 and precision >= 0.99, (recall, precision)
    assert set(result.removed["method"].to_pylist()) == {"minhash"}
    assert min(result.removed["similarity"].to_pylist()) >= 0.7
    assert result.kept.num_rows + result.removed.num_rows == table.num_rows


def test_shingles_are_word_ngrams_within_one_text():
    hashes, offsets = shingle_hashes(["a b c d", "A  b, c d", "x y", ""], 3)
    assert list(np.diff(offsets)) == [2, 2, 1, 1]  # 4 words: 2 trigrams; short text and empty text: 1
    assert np.array_equal(hashes[0:2], hashes[2:4])  # case and punctuation fold
    with pytest.raises(MinHashError, match="threshold 1.5"):
        MinHashSettings(threshold=1.5).check()


def test_normalised_hash_folds_case_space_and_optionally_numbers():
    base = family_table("arithmetic", 20)
    rows = from_table(base)
    shouted = [dataclasses.replace(r, id=f"loud-{i}", steps=[dataclasses.replace(s, thought=s.thought.upper() + "  ")
                                                             for s in r.steps]) for i, r in enumerate(rows[:5])]
    renumbered = [dataclasses.replace(r, id=f"num-{i}", steps=[dataclasses.replace(s, thought=re.sub(r"\d", "7", s.thought))
                                                               for s in r.steps]) for i, r in enumerate(rows[5:8])]
    table = pa.concat_tables([base, to_table(shouted + renumbered)])
    plain = normalised_dedup(table)
    assert sorted(plain.removed["removed_id"].to_pylist()) == sorted(f"loud-{i}" for i in range(5))
    masked = normalised_dedup(table, mask_numbers=True)
    assert set(plain.removed["removed_id"].to_pylist()) < set(masked.removed["removed_id"].to_pylist())
    assert set(masked.removed["method"].to_pylist()) == {"normalised+numbers"}


def test_semantic_dedup_keeps_the_best_scored_tier_of_one_task(store, capfd):
    expert = family_table("arithmetic", 30, 0, (("expert", 1.0),))
    noisy = family_table("arithmetic", 30, 0, (("random", 1.0),))
    table = pa.concat_tables([noisy, expert])  # the worse tier first: keep-first would keep it
    vectors = HashingEmbedder(256).embed([f"{t['family']}: {t['instruction']}" for t in table["task"].to_pylist()])
    result = semantic_dedup(table, vectors, threshold=0.999, clusters=4)
    assert result.removed.num_rows == 30
    assert "WARNING clustering" not in capfd.readouterr().err  # FAISS's sampling warning is noise here
    kept_score = dict(zip(table["id"].to_pylist(), preference(table, "verifier"), strict=True))
    for r in result.removed.to_pylist():
        assert kept_score[r["kept_id"]] < kept_score[r["removed_id"]]
    with pytest.raises(DedupError, match="outside \\[-1, 1\\]"):
        semantic_dedup(table, vectors, threshold=1.5)


def test_dedup_version_across_two_sources_records_every_removal(store):
    rows, blobs = family_shard("form", 40)
    table, truth = edited_copies(rows, every=4)
    a = store.publish("a", table.slice(0, 30), blobs=blobs)
    b = store.publish("b", table.slice(20), blobs=blobs)  # rows 20..29 in both: exact duplicates
    info, result = dedup_versions(store, [a, b], "clean", "minhash")
    assert [(p["dataset"], p["role"]) for p in info.manifest["parents"]] == [("a", "dedup"), ("b", "dedup")]
    removed = pq.read_table(info.path / REMOVED_FILE)
    methods = removed["method"].to_pylist()
    assert methods.count("exact") == 10 and methods.count("minhash") == len(truth)
    kept = store.read(info)
    assert kept.num_rows == table.num_rows - len(truth)
    exact = [r for r in removed.to_pylist() if r["method"] == "exact"]
    assert all(r["removed_id"] == r["kept_id"] and r["removed_from"] == "b@v1" for r in exact)
    near = {r["removed_id"] for r in removed.to_pylist() if r["method"] == "minhash"}
    assert near.isdisjoint(kept["id"].to_pylist()) and near <= set(truth) | set(truth.values())
    assert set(removed["kept_id"].to_pylist()) <= set(kept["id"].to_pylist())
    refs = set(image_refs(kept).to_pylist())
    assert refs and refs == set(store.read(info, table="blobs")["id"].to_pylist())  # screenshots travel along
    assert info.manifest["params"]["dedup"]["removed"] == removed.num_rows

    # undone: the near-duplicates come back from the version each left, with their screenshots
    back, restored = undo_dedup(store, info)
    assert back.ref == "clean@v2" and back.rows == table.num_rows
    assert sorted(store.read(back)["id"].to_pylist()) == sorted(table["id"].to_pylist())
    assert sorted(pq.read_table(back.path / RESTORED_FILE)["removed_id"].to_pylist()) == sorted(near)
    origins = {r["removed_from"] for r in removed.to_pylist() if r["method"] == "minhash"}
    assert sorted((f"{p['dataset']}@{p['version']}", p["role"]) for p in back.manifest["parents"]) == sorted(
        [("clean@v1", "undo"), *((o, "restored_from") for o in origins)])
    assert set(image_refs(store.read(back)).to_pylist()) == set(store.read(back, table="blobs")["id"].to_pylist())
    one = sorted(near)[0]
    partial, _ = undo_dedup(store, info, [one], out="clean-one")
    assert partial.rows == kept.num_rows + 1 and one in store.read(partial)["id"].to_pylist()
    with pytest.raises(DedupError, match="\\['nope'\\] were not removed by clean@v1"):
        undo_dedup(store, info, ["nope"])
    with pytest.raises(DedupError, match="nothing to restore"):
        undo_dedup(store, info, [exact[0]["removed_id"]])
    with pytest.raises(DedupError, match="a@v1 is not a dedup version"):
        undo_dedup(store, a)
    assert store.version_ids("clean") == ["v1", "v2"]


def test_semantic_dedup_version_uses_the_cached_embeddings(store):
    a = store.publish("a", pa.concat_tables([family_table("arithmetic", 20, 0, (("expert", 1.0),)),
                                             family_table("arithmetic", 20, 0, (("noisy", 1.0),))]))
    e = HashingEmbedder(128)
    info, result = dedup_versions(store, [a], "sem", "semantic", view="task", embedder=e, threshold=0.999)
    assert result.removed.num_rows == 20 and info.manifest["params"]["dedup"]["embedder"] == e.id
    assert embeddings(store, a, "task", e, build=False).vectors.shape == (40, 128)


def test_bad_dedup_requests_publish_nothing(store):
    a = store.publish("a", family_table("maze", 5))
    with pytest.raises(DedupError, match="unknown dedup method 'fuzzy'"):
        dedup_versions(store, [a], "x", "fuzzy")
    with pytest.raises(DedupError, match="needs an embedder"):
        dedup_versions(store, [a], "x", "semantic")
    with pytest.raises(DedupError, match="not 'step'"):
        dedup_versions(store, [a], "x", "minhash", view="step")
    assert store.datasets() == ["a"]
