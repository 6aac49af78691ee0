import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from stores.names import InvalidNameError
from stores.schema import SchemaError, TrajectoryValidationError
from stores.store import FormatVersionError, NotFoundError, Store, StoreError
from tests.factories import make_table


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()} if root.exists() else {}


def test_publish_read_versions_tags(store, table):
    v1 = store.publish("demo", table, params={"a": 1}, tags=["stable"])
    v2 = store.publish("demo", make_table(30, seed=2), parents=[{"ref": "demo@v1", "role": "filter"}])
    assert (v1.version, v2.version) == ("v1", "v2")
    assert store.read("demo@v1").equals(table)
    assert store.read("demo").num_rows == 30  # bare name = latest
    assert store.tags("demo") == {"latest": "v2", "stable": "v1"}
    assert store.read("demo@stable")["id"].to_pylist() == table["id"].to_pylist()
    assert store.read_polars("demo@v2", ["id"]).height == 30
    assert v2.manifest["parents"] == [
        {"dataset": "demo", "version": "v1", "role": "filter", "manifest_sha256": v1.manifest_sha256}
    ]
    assert v1.manifest["params"] == {"a": 1} and v1.manifest["format_version"] == "1.0"
    assert v1.manifest["stats"]["content"]["by_kind"]["reasoning"]["rows"] == 7
    store.tag("demo@v2", "stable")
    assert store.tags("demo")["stable"] == "v2"
    store.untag("demo", "stable")
    assert "stable" not in store.tags("demo")
    assert store.datasets() == ["demo"]


def test_sharding_and_row_groups(store):
    import pyarrow.parquet as pq

    table = make_table(600)
    info = store.publish("big", table, shard_bytes=table.nbytes // 4, row_group_rows=50)
    shards = info.manifest["tables"]["trajectories"]["shards"]
    assert len(shards) >= 4 and sum(s["rows"] for s in shards) == 600
    meta = pq.ParquetFile(info.path / shards[0]["path"]).metadata
    assert meta.num_row_groups >= 2 and all(meta.row_group(i).num_rows <= 50 for i in range(meta.num_row_groups))
    assert store.read("big").equals(table)


def test_diff_counts(store):
    a = make_table(10)
    b = pa.concat_tables([a.slice(0, 6), make_table(5, seed=9)])
    store.publish("d", a)
    store.publish("d", b)
    d = store.diff("d@v1", "d@v2")
    assert (d.added, d.removed, d.unchanged) == (5, 4, 6)


def test_verify_finds_corrupted_and_missing_files(store, table):
    info = store.publish("demo", table)
    assert store.verify("demo@v1") == []
    shard = info.path / info.manifest["tables"]["trajectories"]["shards"][0]["path"]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert any("sha256 differs" in p for p in store.verify("demo@v1"))
    shard.unlink()
    assert any("missing" in p for p in store.verify("demo@v1"))


@pytest.mark.parametrize("name", ["a/b", "..", "../x", "a..b", "", "-x", "x" * 200, "a b"])
def test_bad_dataset_names_rejected_and_store_unchanged(store, table, name):
    with pytest.raises(InvalidNameError, match="invalid dataset name"):
        store.publish(name, table)
    assert _snapshot(store.root) == {}


def test_bad_tables_leave_store_unchanged(store, table):
    store.publish("demo", table)
    before = _snapshot(store.root)
    with pytest.raises(SchemaError):
        store.publish("demo", table.drop_columns(["kind"]))
    rows = table.to_pylist()
    rows[0]["kind"] = "video"
    with pytest.raises(TrajectoryValidationError):
        store.publish("demo", pa.Table.from_pylist(rows, schema=table.schema))
    with pytest.raises(NotFoundError):
        store.publish("demo", table, parents=[{"ref": "demo@v9"}])
    with pytest.raises(StoreError, match="JSON"):
        store.publish("demo", table, params={"x": object()})
    assert _snapshot(store.root) == before


def test_missing_versions_and_tags(store, table):
    with pytest.raises(NotFoundError, match="does not exist"):
        store.resolve("nope@v1")
    store.publish("demo", table)
    with pytest.raises(NotFoundError, match=r"demo@v7 does not exist: demo has versions v1"):
        store.read("demo@v7")
    with pytest.raises(NotFoundError, match="demo@gold does not exist"):
        store.read("demo@gold")
    with pytest.raises(InvalidNameError, match="reserved"):
        store.tag("demo@v1", "latest")


def test_store_root_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        Store(f)


def test_object_store_uri_is_refused_not_made_a_local_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="only local folders"):
        Store("s3://bucket/trajectories")
    assert list(tmp_path.iterdir()) == []


def test_newer_major_format_refused(store, table):
    info = store.publish("demo", table)
    manifest = json.loads((info.path / "manifest.json").read_text())
    manifest["format_version"] = "2.0"
    (info.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FormatVersionError, match="newer than this trajforge reads"):
        store.read("demo@v1")


def test_failure_inside_commit_leaves_nothing_visible(store, table, monkeypatch):
    store.publish("demo", table)
    before = _snapshot(store.root / "datasets" / "demo" / "versions")

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "rename", boom)
    with pytest.raises(StoreError, match="disk on fire.*nothing was committed"):
        store.publish("demo", make_table(5, seed=3))
    monkeypatch.undo()
    assert _snapshot(store.root / "datasets" / "demo" / "versions") == before
    assert list((store.root / "datasets" / "demo" / "_staging").iterdir()) == []
    assert [v.version for v in store.versions("demo")] == ["v1"]


def _publish_many(root: str, worker: int, n: int) -> None:
    store = Store(root)
    for i in range(n):
        store.publish("shared", make_table(20, seed=worker * 100 + i), params={"worker": worker, "i": i})


def test_concurrent_publishers_get_unique_monotonic_versions(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_publish_many, args=(str(tmp_path), w, 3)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = Store(tmp_path)
    versions = store.versions("shared")
    assert [v.version for v in versions] == [f"v{i}" for i in range(1, 13)]
    assert sorted((v.manifest["params"]["worker"], v.manifest["params"]["i"]) for v in versions) == [
        (w, i) for w in range(4) for i in range(3)
    ]
    for v in versions:
        assert v.manifest["version"] == v.version and store.verify(v.ref) == []


CRASH_CHILD = """
import sys
from stores.store import Store
from tests.factories import make_table
table = make_table(3000, seed=int(sys.argv[2]))
store = Store(sys.argv[1])
print("ready", flush=True)
while True:
    store.publish("crash", table, shard_bytes=table.nbytes // 12, row_group_rows=100)
"""


def test_killed_publishers_never_leave_a_torn_version(tmp_path):
    """SIGKILL a publishing process at random moments; every visible version must be whole."""
    rng = random.Random(1234)
    root = tmp_path / "store"
    saw_leftover_staging = False
    repo = Path(__file__).resolve().parent.parent
    for attempt in range(12):
        child = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, str(root), str(attempt)], cwd=repo,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.8))
        child.send_signal(signal.SIGKILL)
        child.wait()
        store = Store(root)
        staging = root / "datasets" / "crash" / "_staging"
        saw_leftover_staging |= staging.exists() and any(staging.iterdir())
        for name in store.datasets():
            for info in store.versions(name):
                assert store.verify(info.ref) == [], info.ref
                assert store.read(info).num_rows == info.rows == 3000
    assert saw_leftover_staging, "no kill landed mid-publish; the test did not exercise a crash"
    # the next publisher removes crash leftovers (their processes are gone)
    store = Store(root)
    store.publish("crash", make_table(5))
    assert [p.name for p in (root / "datasets" / "crash" / "_staging").iterdir()] == []
