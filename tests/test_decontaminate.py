"""Decontamination against evaluation files and versions."""

import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filters.decontaminate import (
    MATCHES_FILE,
    DecontaminationError,
    DecontamSettings,
    apply_contamination,
    decontaminate_versions,
    find_contamination,
    load_eval_set,
)
from stores.embeddings import HashingEmbedder
from stores.text_files import TextFileError
from tests.generated import family_table, mixed_table


def _eval_file(tmp_path, items, name="eval.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def test_ngram_overlap_finds_leaked_items_and_says_which(store, tmp_path):
    train = mixed_table(("arithmetic", "lis", "topo_sort"), 30)
    instructions = [t["instruction"] for t in train["task"].to_pylist()]
    leaked = [instructions[3], instructions[40]]
    unrelated = "Name the capital city of a country that borders exactly three oceans and two deserts today"
    path = _eval_file(tmp_path, [{"id": "q1", "question": leaked[0]}, {"id": "q2", "question": leaked[1]},
                                 {"id": "q3", "question": unrelated}])
    evals = [load_eval_set(store, str(path), field="question")]
    matches = find_contamination(train, evals, DecontamSettings())
    by_id = {m["id"]: m for m in matches.to_pylist()}
    ids = train["id"].to_pylist()
    assert by_id[ids[3]]["eval_id"] == "q1" and by_id[ids[40]]["eval_id"] == "q2"
    assert sorted(matches["id"].to_pylist()) == sorted([ids[3], ids[40]])  # the templates are not leaks
    assert "q3" not in {m["eval_id"] for m in matches.to_pylist()}
    assert all(m["method"] == "ngram" and m["eval_source"] == str(path) for m in matches.to_pylist())
    assert by_id[ids[3]]["evidence"] in " ".join(re.findall("[a-z0-9]+", instructions[3].lower()))
    assert len(by_id[ids[3]]["evidence"].split()) == 13
    assert by_id[ids[3]]["overlap"] == 1.0  # the whole question is in the row
    loose = find_contamination(train, evals, DecontamSettings(min_overlap=0.0))  # datatrove's any-n-gram rule
    assert set(matches["id"].to_pylist()) < set(loose["id"].to_pylist())


def test_short_items_match_whole_and_tagging_scores_every_row(store, tmp_path):
    train = family_table("arithmetic", 20)
    words = train["task"][5]["instruction"].as_py().split()[:6]
    path = _eval_file(tmp_path, [{"text": " ".join(words)}])
    matches = find_contamination(train, [load_eval_set(store, str(path))], DecontamSettings())
    assert train["id"][5].as_py() in matches["id"].to_pylist()
    assert matches["eval_id"][0].as_py() == "eval.jsonl:1"  # no id field: file and line
    tagged = apply_contamination(train, matches, "tag")
    flagged = set(matches["id"].to_pylist())
    for row in tagged.to_pylist():
        score = {s["name"]: s["value"] for s in row["scores"]}["contamination"]
        assert score == (1.0 if row["id"] in flagged else 0.0)


def test_embedding_similarity_catches_a_paraphrase(store, tmp_path):
    train = family_table("arithmetic", 20)
    instruction = train["task"][7]["instruction"].as_py()
    reworded = " ".join(reversed(instruction.split()))  # same words, no shared 13-gram
    path = _eval_file(tmp_path, [{"id": "p", "text": reworded}])
    evals = [load_eval_set(store, str(path))]
    settings = DecontamSettings(view="task", embedder=HashingEmbedder(256), threshold=0.6, methods=("ngram", "embedding"))
    matches = find_contamination(train, evals, settings)
    assert [m["method"] for m in matches.to_pylist() if m["id"] == train["id"][7].as_py()] == ["embedding"]
    assert "ngram" not in matches["method"].to_pylist()


def test_decontaminated_version_against_a_version_and_a_file(store, tmp_path):
    train = mixed_table(("arithmetic", "lis"), 20)
    a = store.publish("train", train)
    bench = store.publish("bench", train.slice(0, 2))  # an evaluation set that is a catalog version
    path = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"text": [train["task"][30]["instruction"].as_py()]}), path)
    evals = [load_eval_set(store, "bench@v1"), load_eval_set(store, str(path))]
    info, matches = decontaminate_versions(store, [a], "train-clean", evals, DecontamSettings(), mode="remove")
    kept = set(store.read(info)["id"].to_pylist())
    gone = {train["id"][i].as_py() for i in (0, 1, 30)}
    assert gone <= set(matches["id"].to_pylist()) and kept.isdisjoint(gone) and len(kept) == 37
    assert info.manifest["parents"][0]["role"] == "decontamination"
    report = pq.read_table(info.path / MATCHES_FILE)
    assert {r["eval_source"] for r in report.to_pylist()} == {bench.ref, str(path)}
    assert info.manifest["params"]["decontamination"]["rows_flagged"] == 3


def test_bad_evaluation_input(store, tmp_path):
    path = _eval_file(tmp_path, [{"question": "what"}])
    with pytest.raises(TextFileError, match="no string field 'text'.*\\['question'\\].*--field"):
        load_eval_set(store, str(path))
    with pytest.raises(DecontaminationError, match="neither a file nor a version"):
        load_eval_set(store, "nosuch@v1")
    with pytest.raises(DecontaminationError, match="max_matches"):
        DecontamSettings(max_matches=0).check()
    with pytest.raises(DecontaminationError, match="outside \\[-1, 1\\]"):
        DecontamSettings(threshold=2.0).check()
    with pytest.raises(DecontaminationError, match="needs an embedder"):
        DecontamSettings(methods=("embedding",)).check()
