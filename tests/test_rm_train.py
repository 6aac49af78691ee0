"""End to end: train a small RM for a few seconds, publish it as a model version, evaluate and
score a held-out version from the CLI; resume from a checkpoint; bad input leaves the store as it was."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import torch

from catalog.catalog import Catalog
from filters.rm.config import RMConfig, RMConfigError, load_rm_config
from filters.rm.train import TrainingError, train_rm
from filters.scorers import score_table
from filters.scorers.base import ScorerError, apply_scorers, build_scorer
from flows.cli import main
from stores.store import Store
from tests.generated import family_table

TIERS = (("expert", 0.3), ("reflective", 0.2), ("noisy", 0.3), ("random", 0.2))


@pytest.fixture(scope="module")
def rm_store(tmp_path_factory):
    """A store with a training version (arithmetic + maze, seed 0), a held-out version (seed 1,
    plus game24, a family left out of training), a GUI version, and a model trained on the first."""
    store = Store(tmp_path_factory.mktemp("rm") / "store")
    store.publish("train", pa.concat_tables([family_table(f, 40, 0, TIERS) for f in ("arithmetic", "maze")]))
    held = pa.concat_tables([family_table(f, 15, 1, TIERS) for f in ("arithmetic", "maze", "game24")])
    store.publish("held", score_table(held))  # verifier + prefix_correct, which scoring must keep
    store.publish("gui", family_table("todo", 6, 0, TIERS))
    config = store.root.parent / "rm.yaml"
    config.write_text("rm:\n  max_steps: 6\n  batch_size: 8\n  d_model: 32\n  heads: 2\n  ff: 64\n  vocab_size: 500\n")
    assert main(["--store", str(store.root), "rm", "train", "train@v1", "--config", str(config), "--no-progress"]) == 0
    return store


def run(store, *args) -> int:
    return main(["--store", str(store.root), *args])


def test_train_publishes_a_model_version_with_lineage(rm_store):
    info = rm_store.resolve("train-rm@v1")
    assert info.kind == "model" and info.main_table == "metrics"
    assert [(p["dataset"], p["version"], p["role"]) for p in info.manifest["parents"]] == [("train", "v1", "train")]
    files = {f["path"] for f in info.manifest["files"]}
    assert {"model/config.json", "model/weights.safetensors", "model/tokenizer.json"} <= files
    meta = json.loads((info.path / "model" / "config.json").read_text())
    assert meta["kinds"] == ["reasoning"] and meta["families"] == ["arithmetic", "maze"]
    assert meta["training"]["steps"] == 6 and 0 < meta["threshold"] < 1
    metrics = rm_store.read(info).to_pylist()
    assert {m["metric"] for m in metrics} >= {"auroc", "fe_f1", "ece"} and {m["split"] for m in metrics} == {"validation"}
    assert rm_store.verify(info.ref) == []
    # the catalog answers "which data trained this model"
    rows = Catalog(rm_store).query("SELECT parent_dataset, parent_version, role FROM lineage "
                                   "WHERE dataset = 'train-rm' AND version = 'v1'").rows
    assert rows == [("train", "v1", "train")]


def test_eval_prints_and_stores_metrics_per_kind(rm_store, capsys):
    assert run(rm_store, "rm", "eval", "train-rm@v1", "held@v1") == 0
    out = capsys.readouterr().out
    assert "reasoning" in out and "leakage" in out and "AUROC" in out
    saved = json.loads((rm_store.root / "derived" / "train-rm" / "v1" / "eval" / "held@v1.json").read_text())
    groups = {(r["kind"], r["group"]) for r in saved["rm"]}
    assert groups == {("reasoning", "all"), ("reasoning", "seen"), ("reasoning", "unseen")}
    unseen = next(r for r in saved["rm"] if r["group"] == "unseen")
    assert unseen["rows"] == 15  # game24 was left out of training
    for r in saved["rm"] + saved["audit"]:
        assert 0.0 <= r["auroc"] <= 1.0 and 0.0 <= r["ece"] <= 1.0
        assert r["fe_f1"] is None or 0.0 <= r["fe_f1"] <= 1.0
    assert len(saved["audit"]) == 3 and saved["inference"]["steps"] > 0


def test_score_publishes_a_scored_version(rm_store):
    assert run(rm_store, "rm", "score", "train-rm@v1", "held@v1", "--out", "held-rm") == 0
    info = rm_store.resolve("held-rm@v1")
    roles = {(p["dataset"], p["role"]) for p in info.manifest["parents"]}
    assert roles == {("held", "score"), ("train-rm", "model")}
    rows = rm_store.read(info).to_pylist()
    for row in rows:
        score = {e["name"]: e["value"] for e in row["scores"]}
        steps = {e["name"]: e["values"] for e in row["step_scores"]}
        assert 0.0 <= score["learned_rm"] <= 1.0 and score["verifier"] in (0.0, 1.0)  # nothing overwritten
        assert len(steps["learned_rm"]) == len(row["steps"]) and "prefix_correct" in steps
    # the same scores as the scorer gives in process
    scorer = build_scorer({"name": "learned_rm", "params": {"model": "train-rm@v1", "store": str(rm_store.root)}})
    scored, stats = apply_scorers(rm_store.read("held@v1").slice(0, 5), [scorer])
    assert scored["scores"].to_pylist() == rm_store.read(info).slice(0, 5)["scores"].to_pylist()
    assert stats["learned_rm"]["steps"] == sum(len(r["steps"]) for r in rows[:5])


def test_resume_continues_the_same_run(tmp_path):
    table = family_table("arithmetic", 24, 0, TIERS)
    cfg = dict(batch_size=4, d_model=32, heads=2, ff=64, vocab_size=300, val_share=0.0, dropout=0.0)
    whole = train_rm(table, RMConfig(max_steps=6, **cfg), trained_on="a@v1", progress=False)
    assert whole.stats["steps"] == 6
    # a stop after 3 steps, then a resume to 6: same weights as the run that never stopped
    ckpt2 = tmp_path / "ckpt2.pt"
    train_rm(table, RMConfig(max_steps=3, **cfg), trained_on="a@v1", checkpoint=ckpt2, progress=False)
    with pytest.raises(TrainingError, match="another model or data config"):
        train_rm(table, RMConfig(max_steps=6, **cfg), trained_on="b@v1", checkpoint=ckpt2, progress=False)
    resumed = train_rm(table, RMConfig(max_steps=6, **cfg), trained_on="a@v1", checkpoint=ckpt2, progress=False)
    assert resumed.stats["resumed_from_step"] == 3 and resumed.stats["steps"] == 6
    for (k, a), b in zip(whole.model.net.state_dict().items(), resumed.model.net.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=k)
    ok, steps = resumed.model.predict([{"id": "x", "kind": "reasoning", "task": {"family": "arithmetic",
                                        "instruction": "1+1"}, "steps": [], "final_answer": "2"}])
    assert 0 <= ok[0] <= 1 and steps[0].shape == (0,)


def test_bad_input_is_refused_and_the_store_is_untouched(rm_store, tmp_path, capsys):
    before = sorted(rm_store.datasets())
    # a model path that does not exist, a folder that is not an RM, a version that is not a model
    for spec, message in ((str(tmp_path / "nope"), "does not exist"), (str(tmp_path), "not a trajforge reward model"),
                          ("held@v1", "trajectories version, not a model version"),
                          ("ghost@v1", "does not exist")):
        with pytest.raises(ScorerError, match=message):
            build_scorer({"name": "learned_rm", "params": {"model": spec, "store": str(rm_store.root)}})
        assert run(rm_store, "rm", "score", spec, "held@v1") == 1
        assert message.split()[0] in capsys.readouterr().err
    # a model trained on reasoning asked to score GUI rows
    scorer = build_scorer({"name": "learned_rm", "params": {"model": "train-rm@v1", "store": str(rm_store.root)}})
    with pytest.raises(ScorerError, match=r"cannot score kind\(s\) \['gui'\]; it supports \['reasoning'\]"):
        apply_scorers(rm_store.read("gui@v1"), [scorer])
    assert run(rm_store, "rm", "score", "train-rm@v1", "gui@v1") == 1
    assert "cannot score kind(s) ['gui']" in capsys.readouterr().err
    assert run(rm_store, "rm", "eval", "train-rm@v1", "gui@v1") == 1
    assert "trained for ['reasoning']" in capsys.readouterr().err
    # training on a kind the data lacks, a config key that does not exist, a model as training data
    bad = tmp_path / "bad.yaml"
    bad.write_text("rm:\n  kinds: [gui]\n  max_steps: 1\n")
    assert run(rm_store, "rm", "train", "train@v1", "--config", str(bad), "--no-progress") == 1
    assert "holds only ['reasoning']" in capsys.readouterr().err
    bad.write_text("rm:\n  learning_rate: 0.1\n")
    with pytest.raises(RMConfigError, match="learning_rate: Extra inputs are not permitted"):
        load_rm_config(bad)
    assert run(rm_store, "rm", "train", "train-rm@v1", "--no-progress") == 1
    assert "is a model version" in capsys.readouterr().err
    assert sorted(rm_store.datasets()) == before
    assert [v.version for v in rm_store.versions("train-rm")] == ["v1"]


def test_a_run_scores_with_a_model_version_of_its_own_store(rm_store, tmp_path, monkeypatch, prefect_server):
    """`trajforge --store S run` with `learned_rm: {model: NAME@REF}` finds the model in S, at
    config check and in the score stage, whatever TRAJFORGE_HOME says."""
    monkeypatch.setenv("TRAJFORGE_HOME", str(tmp_path / "elsewhere"))
    config = tmp_path / "run.yaml"
    config.write_text(
        "dataset: scored-run\nseed: 3\nworkers: 1\nretrieve: {prior: null}\ncorrupt: {fraction: 0.0}\n"
        "synth:\n  reasoning:\n    - {family: maze, count: 6, difficulties: [1], tiers: {expert: 0.5, noisy: 0.5}}\n"
        "score:\n  scorers: [{name: verifier}, {name: learned_rm, params: {model: train-rm@v1}}]\n")
    assert run(rm_store, "run", str(config)) == 0
    rows = rm_store.read("scored-run@latest").to_pylist()
    assert len(rows) == 6
    for row in rows:
        score = {e["name"]: e["value"] for e in row["scores"]}
        assert 0.0 <= score["learned_rm"] <= 1.0
    assert not (tmp_path / "elsewhere").exists()
    # the same model named in another store is an error before any work
    assert main(["--store", str(tmp_path / "other"), "run", str(config)]) != 0
    assert not (tmp_path / "other" / "datasets").exists()


def test_a_robustness_suite_scores_with_a_model_version_of_its_store(rm_store, tmp_path, monkeypatch):
    monkeypatch.setenv("TRAJFORGE_HOME", str(tmp_path / "elsewhere"))
    grid = tmp_path / "grid.yaml"
    grid.write_text("operators: [truncate_trace]\nscorers: [{name: verifier}, {name: learned_rm, params: {model: train-rm@v1}}]\n")
    assert run(rm_store, "robustness", "held@v1", "--grid", str(grid), "--out", "held-suite") == 0
    report = json.loads((rm_store.resolve("held-suite@latest").path / "robustness" / "report.json").read_text())
    learned = [r for r in report if r["score"] == "learned_rm" and r["level"] == "trajectory"]
    assert learned and all(r["pairs"] > 0 and 0.0 <= r["mean_corrupt"] <= 1.0 for r in learned)
    assert not (tmp_path / "elsewhere").exists()


def test_predictions_are_deterministic(rm_store):
    scorer = build_scorer({"name": "learned_rm", "params": {"model": "train-rm@v1", "store": str(rm_store.root)}})
    held = rm_store.read("held@v1").slice(0, 4)
    a = scorer.score(held)
    b = scorer.score(held)
    np.testing.assert_array_equal(a.scores["learned_rm"], b.scores["learned_rm"])


def test_encoder_backbone_fine_tunes_a_local_hf_encoder_and_round_trips(tmp_path):
    from filters.rm.inputs import input_rows
    from filters.rm.model import load_model
    from tests.test_scorer_hf import save_model

    table = family_table("arithmetic", 8, 0, TIERS)
    save_model(tmp_path / "bert", "base", table, labels=2)
    cfg = RMConfig(backbone=str(tmp_path / "bert"), max_steps=2, batch_size=2, val_share=0.0, encoder_max_len=64)
    result = train_rm(table, cfg, trained_on="a@v1", progress=False)
    assert result.model.meta["backbone"] == "encoder" and result.stats["steps"] == 2
    files = result.model.files()
    assert {"config.json", "weights.safetensors", "encoder/config.json", "encoder/tokenizer.json"} <= set(files)
    loaded = load_model(result.model.save(tmp_path / "saved"))
    rows = input_rows(table.slice(0, 3))
    (a_traj, a_steps), (b_traj, b_steps) = result.model.predict(rows), loaded.predict(rows)
    np.testing.assert_allclose(a_traj, b_traj, atol=1e-5)
    for a, b, row in zip(a_steps, b_steps, rows, strict=True):
        assert len(a) == len(row["steps"])
        np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="is not a folder"):
        train_rm(table, RMConfig(backbone=str(tmp_path / "nope"), max_steps=1), trained_on="a@v1", progress=False)
