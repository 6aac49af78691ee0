"""Class 3: every read checks what it reads against the manifest, and the manifest against what
was recorded of it; a damaged version is reported beside the others, never taken for data."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest

from catalog.catalog import Catalog, CatalogError, verify_version
from stores.store import DamagedVersionError, Store
from tests.factories import make_table
from tests.security.helpers import cli, published_store, snapshot


@pytest.fixture
def store(tmp_path):
    return published_store(tmp_path / "store")


def shard(store: Store, ref: str = "demo@v1"):
    return store.shard_paths(ref)[0]


def edit_manifest(store: Store, ref: str, change) -> None:
    info = store.resolve(ref)
    manifest = json.loads((info.path / "manifest.json").read_text())
    change(manifest)
    (info.path / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_a_shard_replaced_by_another_valid_parquet_file_is_not_read(store, tmp_path):
    path = shard(store)
    pq.write_table(make_table(30, seed=8).slice(0, 26), path)  # valid Parquet, other rows
    damaged = snapshot(store.root)
    with pytest.raises(DamagedVersionError, match=r"demo@v1: data/part-00000.parquet: .*the manifest says"):
        store.read("demo@v1")
    with pytest.raises(CatalogError, match="demo@v1: data/part-00000.parquet"):
        Catalog(store).query('SELECT count(*) FROM "demo@v1"')
    for args in (["datasets", "diff", "demo@v1", "demo@v2"], ["catalog", "query", 'SELECT * FROM "demo@v1"']):
        run = cli("--store", str(store.root), *args)
        assert run.returncode == 1 and "demo@v1" in run.stderr and "Traceback" not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
    assert any("data/part-00000.parquet" in p for p in store.verify("demo@v1"))
    assert snapshot(store.root) == damaged
    assert store.read("demo@v2").num_rows == 20  # other versions read as before


def test_a_same_size_file_with_other_rows_is_caught_by_its_footer(store):
    path = shard(store)
    info = store.resolve("demo@v1")
    size = info.manifest["tables"]["trajectories"]["shards"][0]["bytes"]
    table = pq.read_table(path)
    for n in range(29, 0, -1):  # find a prefix whose file is no larger, then pad it to the size
        pq.write_table(table.slice(0, n), path)
        if path.stat().st_size <= size:
            break
    with open(path, "ab") as fh:
        fh.write(b"\0" * (size - path.stat().st_size))
    with pytest.raises(DamagedVersionError):
        store.read("demo@v1")


def test_edited_row_counts_fail_verify_three_ways(store):
    def inflate(m):
        m["tables"]["trajectories"]["rows"] = 999999
        m["tables"]["trajectories"]["shards"][0]["rows"] = 999999

    edit_manifest(store, "demo@v1", inflate)
    problems = verify_version(store, "demo@v1")
    assert any("999999" in p and "Parquet footer" in p for p in problems)
    assert any("the catalog recorded" in p for p in problems)
    assert any("demo@v2 recorded" in p for p in problems)  # the child's lineage edge
    with pytest.raises(DamagedVersionError, match="999999"):
        store.read("demo@v1")
    run = cli("--store", str(store.root), "datasets", "verify", "demo@v1")
    assert run.returncode == 1 and "999999" in run.stderr


def test_an_edited_table_total_alone_fails_verify(store):
    edit_manifest(store, "other@v1", lambda m: m["tables"]["trajectories"].__setitem__("rows", 999999))
    problems = verify_version(store, "other@v1")
    assert any("manifest says 999999 rows but its shards hold 10" in p for p in problems)
    assert any("the catalog recorded" in p for p in problems)


def test_a_rebuild_does_not_launder_an_edited_manifest(store):
    edit_manifest(store, "other@v1", lambda m: m["params"].__setitem__("note", "edited"))
    Catalog(store).rebuild()
    assert any("the catalog recorded" in p for p in verify_version(store, "other@v1"))
    rows = Catalog(store).query("SELECT dataset, version FROM problems").rows
    assert rows == [("other", "v1")]


@pytest.mark.parametrize("bad_path", ["../../../outside.parquet", "/etc/passwd", "data/../../v2/data/part-00000.parquet"])
def test_shard_paths_are_confined_to_their_version_folder(store, bad_path):
    outside = store.root / "datasets" / "outside.parquet"
    shutil.copy(shard(store), outside)
    edit_manifest(store, "demo@v1", lambda m: m["tables"]["trajectories"]["shards"][0].__setitem__("path", bad_path))
    before = snapshot(store.root)
    assert any("leaves the version folder" in p for p in store.verify("demo@v1"))
    with pytest.raises(DamagedVersionError, match="leaves the version folder"):
        store.read("demo@v1")
    with pytest.raises(CatalogError, match="leaves the version folder"):
        Catalog(store).query('SELECT count(*) FROM "demo@v1"')
    assert snapshot(store.root) == before


def test_a_symlink_out_of_the_version_folder_is_refused(store, tmp_path):
    path = shard(store)
    copy = tmp_path / "elsewhere.parquet"
    shutil.copy(path, copy)
    path.unlink()
    path.symlink_to(copy)
    with pytest.raises(DamagedVersionError, match="outside the version folder"):
        store.read("demo@v1")


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_missing_or_truncated_shards_give_one_paragraph(store, damage):
    path = shard(store)
    if damage == "truncate":
        with open(path, "r+b") as fh:
            fh.truncate(100)
    else:
        path.unlink()
    run = cli("--store", str(store.root), "catalog", "query", 'SELECT count(*) FROM "demo@v1"')
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert ("missing" if damage == "delete" else "100 bytes") in run.stderr


def test_one_unreadable_manifest_does_not_hide_the_store(store):
    (store.resolve("demo@v2").path / "manifest.json").write_text("{not json")
    run = cli("--store", str(store.root), "datasets", "list")
    assert run.returncode == 0, run.stderr
    assert "other" in run.stdout and "broken" in run.stdout
    versions = cli("--store", str(store.root), "datasets", "versions", "demo")
    assert versions.returncode == 0 and "broken" in versions.stdout and "v1" in versions.stdout
    assert Catalog(store).query('SELECT count(*) FROM "other@v1"').rows == [(10,)]
    Catalog(store).rebuild()
    assert Catalog(store).query("SELECT dataset, version FROM problems").rows == [("demo", "v2")]
    assert Catalog(store).query("SELECT count(*) FROM versions").rows == [(2,)]
    with pytest.raises(CatalogError, match="demo@v2: its manifest"):
        Catalog(store).query('SELECT count(*) FROM "demo@v2"')


def test_a_damaged_tags_file_is_reported_not_fatal(store):
    (store.root / "datasets" / "demo" / "tags.json").write_text("[1, 2")
    run = cli("--store", str(store.root), "datasets", "list")
    assert run.returncode == 0 and "tags.json" in run.stdout
    assert Catalog(store).query('SELECT count(*) FROM "demo@v1"').rows == [(30,)]
