"""The start of robustness suites: a grid expands into checked, named cells, every cell
corrupts the same clean rows, and the response report measures each scorer per cell."""

from __future__ import annotations

import functools
import math

import orjson
import pyarrow as pa
import pytest
import yaml

from filters.robustness import format_report, publish_suite, response_report
from filters.scorers import Scoring
from flows.cli import main
from stores.schema import from_table
from stores.store import Store
from synth.corrupt import CorruptionError, OperatorSpec
from synth.corrupt.grid import Cell, corrupt_cells, grid_cells
from synth.generate import ShardSpec, generate_shard
from tests.factories import RUN_A

GRID = {"operators": ["drop_step", "obs_noise", "outcome_flip"], "eps": [0.3, 1.0]}


@functools.lru_cache(maxsize=1)
def clean() -> pa.Table:
    return pa.concat_tables([generate_shard(ShardSpec(f, 4, 0, 8, {"expert": 0.6, "noisy": 0.4}, (1, 2),
                                                      {"images": "off"}), RUN_A).trajectories for f in ("maze", "form")])


@functools.lru_cache(maxsize=1)
def cells():
    return corrupt_cells(clean(), grid_cells(GRID), 5, {})


def test_a_grid_expands_into_named_checked_cells():
    got = grid_cells(GRID)
    assert [c.split for c in got] == [
        "corrupt_drop_step_c0_e0p3_random", "corrupt_drop_step_c0_e1_random", "corrupt_obs_noise_c0_e0p3_random",
        "corrupt_obs_noise_c0_e1_random", "corrupt_outcome_flip_c1_e0p3_random", "corrupt_outcome_flip_c1_e1_random"]
    assert grid_cells({"operators": "obs_noise", "c": [0.5, 0.50]}) == [Cell(OperatorSpec("obs_noise", 0.5))]
    adversarial = grid_cells({"operators": ["swap_adjacent"], "mode": ["random", "adversarial"], "scorer": "verifier",
                              "candidates": 3})
    assert [c.spec for c in adversarial] == [OperatorSpec("swap_adjacent"), OperatorSpec(
        "swap_adjacent", mode="adversarial", scorer="verifier", candidates=3)]


@pytest.mark.parametrize("grid, message", [
    ({"operators": ["obs_noise"], "epsilon": [1]}, r"unknown key\(s\) \['epsilon'\]"),
    ({"operators": []}, "'operators' is empty"),
    ({"c": [0.1]}, "'operators' is missing or empty"),
    ({"operators": ["obs_noise"], "c": [0.1, 2]}, r"cell \(operator 'obs_noise', c=2, eps=1.0, mode='random'\): .*outside"),
    ({"operators": ["obs_noise"], "mode": ["adversarial"]}, "needs a scorer"),
])
def test_bad_grids_name_the_key_or_cell(grid, message):
    with pytest.raises(CorruptionError, match=message):
        grid_cells(grid)


def test_every_cell_corrupts_the_same_clean_rows_into_its_own_split():
    done = cells()
    assert list(done) == [c.split for c in grid_cells(GRID)]
    ids = set(clean()["id"].to_pylist())
    for split, cell in done.items():
        rows = from_table(cell.rows)
        assert rows and {t.split for t in rows} == {split} and {t.corruption.source_id for t in rows} <= ids
        assert len(rows) == cell.stats.corrupted[cell.cell.spec.name]


def test_the_report_measures_each_scorer_per_cell():
    report = response_report(clean(), cells(), Scoring())
    assert {(r["cell"], r["score"], r["level"]) for r in report} == {
        (s, n, level) for s in cells() for n, level in (("verifier", "trajectory"), ("prefix_correct", "step"))}
    for r in report:
        if r["score"] == "verifier":
            assert r["drop"] == pytest.approx(r["mean_clean"] - r["mean_corrupt"])
            assert r["recall"] is None or math.isnan(r["recall"]) or 0 <= r["recall"] <= 1
            if r["operator"] == "obs_noise":  # the label is kept, so the verdict does not move
                assert r["drop"] == 0 and r["recall"] == pytest.approx(1 - r["mean_clean"])
            if r["operator"] == "outcome_flip":  # the flipped successes are caught, the flipped failures missed
                assert r["mean_corrupt"] == pytest.approx(1 - r["mean_clean"])
                assert r["recall"] == pytest.approx(r["mean_clean"])
        else:  # prefix_correct reads the labels: it finds every first error the rows carry
            assert r["labelled"] > 0 and r["fe_f1"] == 1.0
    table = format_report(report)
    assert table.splitlines()[0].startswith("| cell | score | level |") and len(table.splitlines()) == len(report) + 2


def test_a_suite_publishes_one_split_per_cell_with_its_report(tmp_path):
    store = Store(tmp_path / "store")
    source = store.publish("toy", clean())
    info, report = publish_suite(store, source, GRID, [{"name": "verifier"}, {"name": "prefix_correct"}], seed=5)
    assert info.name == "toy-robustness" and info.manifest["parents"][0]["role"] == "corruption"
    suite = from_table(store.read(info))
    assert {t.split for t in suite} == set(cells()) and set(info.manifest["params"]["cells"]) == set(cells())
    assert orjson.loads((info.path / "robustness" / "report.json").read_bytes()) == orjson.loads(orjson.dumps(report))
    assert report == response_report(clean(), cells(), Scoring([{"name": "verifier"}, {"name": "prefix_correct"}], 5))


@pytest.mark.parametrize("grid, entries, message", [
    ({"operators": ["wrong_tool"]}, [{"name": "verifier"}], "edits only research trajectories and toy@v1 holds gui, reasoning"),
    ({"operators": ["obs_noise"], "c": [3]}, [{"name": "verifier"}], "outside"),
    (GRID, [{"name": "nope"}], "unknown scorer 'nope'"),
])
def test_a_bad_suite_request_publishes_nothing(tmp_path, grid, entries, message):
    store = Store(tmp_path / "store")
    source = store.publish("toy", clean())
    with pytest.raises(ValueError, match=message):
        publish_suite(store, source, grid, entries)
    assert store.datasets() == ["toy"]


def test_the_cli_publishes_the_suite_and_prints_the_report(tmp_path, capsys):
    root = tmp_path / "store"
    Store(root).publish("toy", clean())
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({**GRID, "seed": 5}))
    assert main(["--store", str(root), "robustness", "toy@v1", "--grid", str(grid)]) == 0
    printed = capsys.readouterr().out
    assert "| cell | score |" in printed and printed.strip().endswith("toy-robustness@v1")
    grid.write_text(yaml.safe_dump({"operators": ["obs_noise"], "eps": [-1]}))
    assert main(["--store", str(root), "robustness", "toy@v1", "--grid", str(grid)]) != 0
    assert "eps=-1.0 is negative" in capsys.readouterr().err
    assert Store(root).datasets() == ["toy", "toy-robustness"] and len(Store(root).versions("toy-robustness")) == 1
