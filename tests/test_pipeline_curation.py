"""The pipeline's retrieve stage mixing prior rows in (Behavior Retrieval's recipe) and the
decontamination gate before publish, in real Prefect runs."""

import json

import pyarrow.parquet as pq
import pytest
import yaml

from flows.cli import main
from stores.store import Store


def _config(seed: int, **more) -> dict:
    return {"dataset": "mixed", "seed": seed, "workers": 1, "corrupt": {"fraction": 0.0},
            "synth": {"reasoning": [{"family": "arithmetic", "count": 30}, {"family": "lis", "count": 30}]}, **more}


def _run(root, config: dict) -> int:
    path = root / f"config-{config['seed']}.yaml"
    path.write_text(yaml.safe_dump(config))
    return main(["--store", str(root / "store"), "run", str(path)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory, prefect_server):
    root = tmp_path_factory.mktemp("curation")
    assert _run(root, _config(1)) == 0
    return root, Store(root / "store")


def test_the_retrieve_stage_mixes_prior_rows_at_the_configured_share(runs):
    root, store = runs
    assert _run(root, _config(2, retrieve={"mix_share": 0.2, "mix_view": "trajectory"})) == 0
    v1, v2 = store.versions("mixed")
    rows = store.read(v2)
    prior_ids = set(store.read(v1)["id"].to_pylist())
    mixed = [i for i in rows["id"].to_pylist() if i in prior_ids]
    assert len(mixed) == round(0.2 / 0.8 * 60) and len(mixed) / rows.num_rows == pytest.approx(0.2, abs=0.01)
    matches = pq.read_table(v2.path / "retrieval" / "mixed.parquet")
    assert sorted(matches["id"].to_pylist()) == sorted(mixed) and set(matches["source"].to_pylist()) == {v1.ref}
    assert {p["role"] for p in v2.manifest["parents"]} == {"retrieval"}


def test_the_decontamination_gate_fails_a_run_before_publishing(runs, capsys):
    root, store = runs
    before = store.version_ids("mixed")
    # the same seed as the first run: every row is in the evaluation set (the first version)
    gate = {"eval_sets": ["mixed@v1"], "mode": "fail"}
    assert _run(root, _config(1, decontaminate=gate, retrieve={"enabled": False})) == 1
    assert "rows contain evaluation items" in capsys.readouterr().err
    assert store.version_ids("mixed") == before
    leaked = store.read("mixed@v1")["task"][0]["instruction"].as_py()
    evals = root / "eval.jsonl"
    evals.write_text(json.dumps({"id": "e1", "text": leaked}) + "\n")
    gate = {"eval_sets": [str(evals)], "mode": "remove"}
    assert _run(root, _config(1, decontaminate=gate, retrieve={"enabled": False})) == 0
    info = store.resolve("mixed@latest")
    assert info.rows == 59 and (info.path / "decontam" / "matches.parquet").exists()
    assert _run(root, _config(1, decontaminate={"eval_sets": [str(root / "missing.jsonl")]})) == 1
    assert "missing.jsonl does not exist" in capsys.readouterr().err
