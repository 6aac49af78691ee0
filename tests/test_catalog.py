import pytest

from catalog.catalog import Catalog, CatalogError
from tests.factories import make_table


@pytest.fixture
def published(store, table):
    store.publish("demo", table, tags=["stable"])
    store.publish("demo", make_table(30, seed=2), parents=[{"ref": "demo@v1", "role": "retrieval"}])
    return Catalog(store)


def test_sync_mirrors_manifests(published):
    cat = published
    assert cat.sync() == 2
    assert cat.query("SELECT name, versions, latest FROM datasets").rows == [("demo", 2, "v2")]
    assert cat.query("SELECT version, rows FROM versions ORDER BY number").rows == [("v1", 20), ("v2", 30)]
    v1 = cat.store.resolve("demo@v1")
    assert cat.query("SELECT * FROM lineage").rows == [("demo", "v2", "demo", "v1", "retrieval", v1.manifest_sha256)]
    assert dict(cat.query("SELECT tag, version FROM tags").rows) == {"latest": "v2", "stable": "v1"}
    shards = cat.query("SELECT table_name, sum(rows) FROM shards WHERE version = 'v2' GROUP BY ALL ORDER BY 1").rows
    assert shards == [("trajectories", 30)]  # no blobs, no extra files: no rows for them
    nulls = cat.query("SELECT null_count FROM column_stats WHERE version='v1' AND column_name='corruption'").rows
    assert nulls == [(20,)]


def test_sql_over_data_with_score_maps(published, table):
    rows = published.query(
        "SELECT kind, count(*) n, avg(scores['verifier']) s FROM \"demo@stable\" GROUP BY kind ORDER BY kind"
    ).rows
    expected = {}
    for kind, success in zip(table["kind"].to_pylist(), [o["success"] for o in table["outcome"].to_pylist()], strict=True):
        n, s = expected.get(kind, (0, 0.0))
        expected[kind] = (n + 1, s + success)
    assert rows == [(k, n, pytest.approx(s / n)) for k, (n, s) in sorted(expected.items())]
    assert published.query('SELECT count(*) FROM "demo@latest"').rows == [(30,)]


@pytest.mark.parametrize(
    "sql", ["DROP TABLE versions", "DELETE FROM versions", "COPY (SELECT 1) TO 'x.csv'", "SELECT 1; DROP TABLE tags",
            "INSERT INTO tags VALUES ('a','b','c')", "ATTACH 'x.db' AS x", "CREATE TABLE t (a INT)"]
)
def test_user_sql_is_read_only(published, sql, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    published.sync()
    before = published.query("SELECT count(*) FROM versions").rows
    with pytest.raises(CatalogError, match="read-only"):
        published.query(sql)
    assert published.query("SELECT count(*) FROM versions").rows == before
    assert list(cwd.iterdir()) == []


def test_bad_sql_and_missing_version(published):
    with pytest.raises(CatalogError, match="does not parse"):
        published.query("SELEC 1")
    with pytest.raises(Exception, match="demo@v9 does not exist"):
        published.query('SELECT * FROM "demo@v9"')


def test_rebuild_from_manifests_alone(published, store):
    published.sync()
    before = published.query("SELECT * FROM versions ORDER BY number").rows
    (store.root / "catalog.duckdb").unlink()
    assert published.rebuild() == 2
    assert published.query("SELECT * FROM versions ORDER BY number").rows == before
    assert published.query("SELECT count(*) FROM lineage").rows == [(1,)]
