"""Class 2: no export writes inside a store, and --overwrite replaces only a previous export."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from flows.cli import main
from stores.outputs import EXPORT_MARKER
from stores.schema import Provenance
from stores.store import Store
from synth.generate import ShardSpec, generate_shard
from tests.security.helpers import published_store, snapshot


@pytest.fixture
def store(tmp_path):
    return published_store(tmp_path / "store")


def run(capsys, store, *args):
    code = main(["--store", str(store.root), *args])
    return code, capsys.readouterr()


@pytest.mark.parametrize("target", [
    "{root}/datasets/demo/versions/v1",
    "{root}/datasets/demo/versions/v1/data",
    "{root}/datasets",
    "{root}",
    "{root}/new-folder",
    "{parent}",
])
def test_hf_export_never_writes_in_or_around_the_store(capsys, store, tmp_path, target):
    before = snapshot(tmp_path)
    code, out = run(capsys, store, "export", "hf", "demo@v2", target.format(root=store.root, parent=tmp_path),
                    "--overwrite")
    assert code == 1 and "store" in out.err and "Traceback" not in out.err
    assert snapshot(tmp_path) == before


def test_a_symlink_into_the_store_is_seen_through(capsys, store, tmp_path):
    (tmp_path / "link").symlink_to(store.root / "datasets" / "demo")
    before = snapshot(store.root)
    code, out = run(capsys, store, "export", "hf", "demo@v1", str(tmp_path / "link" / "versions"), "--overwrite")
    assert code == 1 and "inside the store" in out.err
    assert snapshot(store.root) == before


def test_another_store_is_protected_too(capsys, store, tmp_path):
    other = published_store(tmp_path / "other-store")
    before = snapshot(other.root)
    for target in (other.root, other.root / "datasets" / "demo"):
        code, out = run(capsys, store, "export", "hf", "demo@v1", str(target), "--overwrite")
        assert code == 1 and "store" in out.err
    assert snapshot(other.root) == before


def test_overwrite_replaces_only_a_previous_export(capsys, store, tmp_path):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.txt").write_text("not an export")
    code, out = run(capsys, store, "export", "hf", "demo@v1", str(mine), "--overwrite")
    assert code == 1 and EXPORT_MARKER in out.err
    assert (mine / "thesis.txt").read_text() == "not an export"

    out_dir = tmp_path / "hf"
    assert run(capsys, store, "export", "hf", "demo@v1", str(out_dir))[0] == 0
    assert (out_dir / EXPORT_MARKER).is_file()
    code, out = run(capsys, store, "export", "hf", "demo@v2", str(out_dir))
    assert code == 1 and "--overwrite" in out.err
    assert run(capsys, store, "export", "hf", "demo@v2", str(out_dir), "--overwrite")[0] == 0
    assert "demo@v2" in (out_dir / EXPORT_MARKER).read_text()
    assert not list(tmp_path.glob(".hf.*"))  # no staging or replaced folder left beside it


@pytest.fixture
def gui_store(tmp_path):
    shard = generate_shard(ShardSpec("form", 1, 0, 4, {"expert": 1.0}, (1,), {"images": "off"}),
                           Provenance("", "", "t", "t", "t", datetime(2026, 1, 1, tzinfo=UTC)))
    store = Store(tmp_path / "store")
    store.publish("gui", shard.trajectories)
    return store


def test_gui_steps_output_rules(capsys, gui_store, tmp_path):
    store = gui_store
    before = snapshot(store.root)
    code, out = run(capsys, store, "export", "gui-steps", "gui@v1", str(store.root / "steps.parquet"))
    assert code == 1 and "inside the store" in out.err
    victim = tmp_path / "precious.parquet"
    pq.write_table(store.read("gui@v1").select(["id"]), victim)
    victim_bytes = victim.read_bytes()
    code, out = run(capsys, store, "export", "gui-steps", "gui@v1", str(victim), "--overwrite")
    assert code == 1 and "not written by a trajforge export" in out.err
    assert victim.read_bytes() == victim_bytes
    target = tmp_path / "steps.parquet"
    assert run(capsys, store, "export", "gui-steps", "gui@v1", str(target))[0] == 0
    assert run(capsys, store, "export", "gui-steps", "gui@v1", str(target), "--overwrite")[0] == 0
    assert pq.read_table(target).num_rows > 0
    assert snapshot(store.root) == before


def test_gui_steps_of_a_version_without_gui_rows_says_so(capsys, tmp_path):
    store = Store(tmp_path / "store")
    from tests.factories import make_table

    table = make_table(9, seed=1)
    import pyarrow.compute as pc

    store.publish("reasoning", table.filter(pc.equal(table["kind"], "reasoning")))
    code, out = run(capsys, store, "export", "gui-steps", "reasoning@v1", str(tmp_path / "s.parquet"))
    assert code == 1
    assert "reasoning@v1 has no gui trajectories (it holds reasoning)" in out.err
