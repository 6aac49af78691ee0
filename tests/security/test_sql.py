"""Class 1: catalog SQL can read the store's tables and nothing else, and changes nothing."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time

import pytest

from catalog.catalog import Catalog, CatalogError
from stores.store import Store
from tests.factories import make_table
from tests.security.helpers import cli, published_store, read_only_mount, snapshot


@pytest.fixture
def store(tmp_path):
    return published_store(tmp_path / "store")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One store for the tests that only read (each checks it is unchanged afterwards)."""
    return published_store(tmp_path_factory.mktemp("shared") / "store")


def shard_of(store: Store, ref: str) -> str:
    return str(store.shard_paths(ref)[0].resolve())


WRITES = [
    "EXPLAIN ANALYZE COPY (SELECT 'x' AS junk) TO '{shard}' (FORMAT parquet)",
    "/* hidden */ explain   analyze copy (select 1) to '{outside}/x.csv'",
    "EXPLAIN (ANALYZE) COPY (SELECT 1) TO '{outside}/x.csv'",
    "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
    "EXPLAIN ANALYZE INSERT INTO tags VALUES ('a', 'b', 'c')",
    "COPY (SELECT 1) TO '{outside}/x.csv'",
    "COPY versions TO '{shard}' (FORMAT parquet)",
    "EXPORT DATABASE '{outside}/dump'",
    "SET threads = 1",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
    "CREATE TABLE t (a INT)",
    "CREATE VIEW v AS SELECT 1",
    "CREATE MACRO m() AS 1",
    "CREATE TABLE t AS PIVOT (SELECT 1 AS a) ON a",
    "INSERT INTO tags VALUES ('a', 'b', 'c')",
    "UPDATE versions SET rows = 0",
    "DELETE FROM versions",
    "DROP TABLE versions",
    "ALTER TABLE versions ADD COLUMN x INT",
    "ATTACH '{outside}/x.db' AS x",
    "DETACH catalog",
    "USE catalog",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CHECKPOINT",
    "VACUUM",
    "BEGIN TRANSACTION",
    "SELECT 1; DROP TABLE tags",
]


@pytest.mark.parametrize("sql", WRITES)
def test_statements_that_write_are_refused_and_nothing_changes(shared, sql, tmp_path, monkeypatch):
    store = shared
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    before = snapshot(store.root)
    with pytest.raises(CatalogError, match="read-only"):
        Catalog(store).query(sql.format(shard=shard_of(store, "demo@v1"), outside=outside))
    assert snapshot(store.root) == before
    assert list(outside.iterdir()) == []
    assert Catalog(store).query('SELECT count(*) FROM "demo@v1"').rows == [(30,)]


@pytest.fixture
def outside_files(tmp_path):
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "secret.csv").write_text("token\nsecret-value-123\n")
    make_table(3, seed=9).to_pandas().to_csv(folder / "rows.csv")
    import pyarrow.parquet as pq

    pq.write_table(make_table(3, seed=9), folder / "rows.parquet")
    return folder


READS = [
    "SELECT * FROM read_csv('{folder}/secret.csv')",
    "SELECT * FROM read_csv_auto('{folder}/secret.csv')",
    "SELECT * FROM read_text('{folder}/secret.csv')",
    "SELECT * FROM read_blob('{folder}/secret.csv')",
    "SELECT * FROM read_json('{folder}/secret.csv')",
    "SELECT * FROM read_parquet('{folder}/rows.parquet')",
    "SELECT * FROM parquet_metadata('{folder}/rows.parquet')",
    "SELECT * FROM sniff_csv('{folder}/secret.csv')",
    "SELECT * FROM glob('{folder}/*')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM '{folder}/secret.csv'",
    "FROM '{folder}/rows.parquet'",
    "SELECT * FROM read_csv('/etc/passwd')",
    # a store file not named as "name@ref" is not readable by path either
    "SELECT count(*) FROM read_parquet('{v1_shard}')",
    "SELECT count(*) FROM \"demo@v2\", read_parquet('{v1_shard}')",
]


@pytest.mark.parametrize("sql", READS)
def test_files_outside_the_named_versions_cannot_be_read(shared, outside_files, sql):
    store = shared
    before = snapshot(store.root)
    with pytest.raises(CatalogError, match="refused") as err:
        Catalog(store).query(sql.format(folder=outside_files, v1_shard=shard_of(store, "demo@v1")))
    assert "secret-value-123" not in str(err.value)
    assert snapshot(store.root) == before


@pytest.mark.parametrize(("sql", "expected"), [
    ('PIVOT (SELECT split FROM "demo@v1") ON split USING count(*)', [(30,)]),
    ('WITH k AS (SELECT kind FROM "demo@v2") PIVOT k ON kind USING count(*)', None),
    ("UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b", [("a", 1), ("b", 2)]),
    ('SELECT count(*) FROM "demo@stable"', [(30,)]),
    ("FROM versions SELECT count(*)", [(3,)]),
    ("VALUES (1), (2)", [(1,), (2,)]),
    ('EXPLAIN ANALYZE SELECT count(*) FROM "demo@v1"', None),
    ("EXPLAIN ANALYZE (FORMAT json) SELECT 1", None),
    ("/* a comment */ SELECT 1", [(1,)]),
])
def test_reads_of_every_form_run(shared, sql, expected):
    store = shared
    before = snapshot(store.root)
    result = Catalog(store).query(sql)
    if expected is not None:
        assert result.rows == expected
    else:
        assert result.rows
    assert snapshot(store.root) == before


@pytest.mark.parametrize("sql", ['DESCRIBE "demo@v1"', "SHOW TABLES", 'SUMMARIZE SELECT rows FROM versions'])
def test_describe_show_and_summarize_run(shared, sql):
    assert Catalog(shared).query(sql).rows


def test_row_cap_and_streaming(shared):
    store = shared
    started = time.monotonic()
    result = Catalog(store).query("SELECT * FROM range(3000000)", limit=1000)
    assert len(result.rows) == 1000 and result.truncated and result.rows[-1] == (999,)
    assert time.monotonic() - started < 10
    exact = Catalog(store).query("SELECT * FROM range(1000)", limit=1000)
    assert len(exact.rows) == 1000 and not exact.truncated


def test_cli_prints_the_cap_and_all_lifts_it(shared):
    store = shared
    capped = cli("--store", str(store.root), "catalog", "query", "-f", "csv", "SELECT * FROM range(3000000)")
    assert capped.returncode == 0
    assert len(capped.stdout.splitlines()) == 1001
    assert "--limit 1000" in capped.stderr and "--all" in capped.stderr
    small = cli("--store", str(store.root), "catalog", "query", "--limit", "5", "-f", "json", "SELECT * FROM range(9)")
    assert small.stdout.count('"range"') == 5
    everything = cli("--store", str(store.root), "catalog", "query", "--all", "-f", "csv", "SELECT * FROM range(20000)")
    assert len(everything.stdout.splitlines()) == 20001 and everything.stderr == ""


def test_a_long_query_is_stopped_at_its_timeout(shared):
    store = shared
    started = time.monotonic()
    with pytest.raises(CatalogError, match="timeout"):
        Catalog(store).query("SELECT count(*) FROM range(1000000000000) t", timeout_s=0.5)
    assert time.monotonic() - started < 10
    run = cli("--store", str(store.root), "catalog", "query", "--timeout", "0.5", "SELECT count(*) FROM range(1000000000000) t")
    assert run.returncode == 1 and "timeout" in run.stderr and "Traceback" not in run.stderr


_HOLDER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM versions").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM versions").fetchone()[0], flush=True)
"""


def test_an_outside_reader_neither_blocks_nor_is_broken(store):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(store.root / "catalog.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "3"
        started = time.monotonic()
        assert Catalog(store, lock_timeout_s=5).query("SELECT count(*) FROM versions").rows == [(3,)]
        store.publish("demo", make_table(5, seed=4))
        Catalog(store, lock_timeout_s=5).sync()  # a writer, while the file is held read-only
        run = cli("--store", str(store.root), "datasets", "tag", "demo@v3", "fresh")
        assert run.returncode == 0, run.stderr
        assert Catalog(store).query("SELECT count(*) FROM versions").rows == [(4,)]
        assert time.monotonic() - started < 20
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "3"  # its snapshot still reads
    finally:
        holder.kill()
        holder.wait()


def test_reads_write_nothing_not_even_a_lock_or_a_catalog(tmp_path):
    store = Store(tmp_path / "store")
    store.publish("demo", make_table(10, seed=1))  # no catalog file at all yet
    before = snapshot(store.root)
    assert Catalog(store).query("SELECT count(*) FROM versions").rows == [(1,)]
    assert Catalog(store).query('SELECT count(*) FROM "demo@latest"').rows == [(10,)]
    run = cli("--store", str(store.root), "catalog", "query", "SELECT count(*) FROM versions")
    assert run.returncode == 0
    assert snapshot(store.root) == before  # no catalog.duckdb, no catalog.lock, nothing


def test_reads_work_on_a_read_only_store(store, tmp_path):
    """A read-only bind mount when this machine allows one (root in a container may not)."""
    with read_only_mount(store.root, tmp_path / "ro") as mount:
        for args in (["catalog", "query", 'SELECT count(*) FROM "demo@v1"'], ["datasets", "list"],
                     ["datasets", "verify", "demo@v1"], ["datasets", "show", "demo@v2"]):
            run = cli("--store", str(mount), *args)
            assert run.returncode == 0, (args, run.stderr)
        refused = cli("--store", str(mount), "datasets", "tag", "demo@v1", "x")
        assert refused.returncode == 1 and "does not take writes" in refused.stderr


def _publish_many(root: str, seed: int) -> None:
    store = Store(root)
    for i in range(4):
        store.publish("race", make_table(5, seed=seed * 10 + i))
        Catalog(store).sync()


def _rebuild_many(root: str) -> None:
    for _ in range(4):
        Catalog(Store(root)).rebuild()


def test_queries_racing_publishers_and_a_rebuild_never_fail(store):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_publish_many, args=(str(store.root), s)) for s in (1, 2)]
    workers.append(context.Process(target=_rebuild_many, args=(str(store.root),)))
    for w in workers:
        w.start()
    failures = []
    try:
        while any(w.is_alive() for w in workers):
            try:
                Catalog(store).query("SELECT count(*) FROM versions")
                Catalog(store).query('SELECT count(*) FROM "demo@v1"')
            except Exception as e:  # noqa: BLE001 - the point is that nothing is raised
                failures.append(repr(e))
    finally:
        for w in workers:
            w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert failures == []
    assert Catalog(store).query("SELECT count(*) FROM versions WHERE dataset = 'race'").rows == [(8,)]
