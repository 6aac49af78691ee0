"""The DuckDB catalog: every dataset, version, shard, stat, lineage edge and tag, for SQL.

The manifests in the store are the source of truth; this database is a mirror that
:meth:`Catalog.sync` brings up to date and :meth:`Catalog.rebuild` recreates from nothing.
DuckDB lets one process open a file read-write and then no other process may open it at all,
so writers here hold the connection for milliseconds, behind a file lock, and retry; user
SQL runs on an in-memory connection that attaches the catalog read-only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from stores.names import Ref
from stores.store import Store, VersionInfo

_TABLES = {
    "datasets": "name VARCHAR PRIMARY KEY, versions INTEGER, latest VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ",
    "versions": (
        "dataset VARCHAR, version VARCHAR, number INTEGER, created_at TIMESTAMPTZ, rows BIGINT, bytes BIGINT, "
        "blob_rows BIGINT, code_version VARCHAR, format_version VARCHAR, schema_version INTEGER, params JSON, "
        "stats JSON, path VARCHAR, PRIMARY KEY (dataset, version)"
    ),
    "shards": "dataset VARCHAR, version VARCHAR, table_name VARCHAR, path VARCHAR, rows BIGINT, bytes BIGINT, sha256 VARCHAR",
    "column_stats": (
        "dataset VARCHAR, version VARCHAR, column_name VARCHAR, type VARCHAR, null_count BIGINT, "
        "min_value VARCHAR, max_value VARCHAR"
    ),
    "lineage": "dataset VARCHAR, version VARCHAR, parent_dataset VARCHAR, parent_version VARCHAR, role VARCHAR",
    "tags": "dataset VARCHAR, tag VARCHAR, version VARCHAR",
}
# columns added after the first catalogs were written: created on open, so old files keep working
_ADDED_COLUMNS = {"versions": "kind VARCHAR"}
_READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}
# "name@ref" or "name@ref:table" (blobs; a corpus's facts, entities) as a quoted identifier in user SQL
_REF_IDENT = re.compile(r'"([A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9._-]+)(?::([A-Za-z0-9][A-Za-z0-9_-]*))?"')


class CatalogError(Exception):
    pass


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Catalog:
    def __init__(self, store: Store, lock_timeout_s: float = 60.0):
        self.store = store
        self.path = store.root / "catalog.duckdb"
        self.lock_timeout_s = lock_timeout_s

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _writer(self, path: os.PathLike[str] | str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        self.store.root.mkdir(parents=True, exist_ok=True)
        with open(self.store.root / "catalog.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                con = self._open(str(path or self.path), read_only=False)
                try:
                    for name, columns in _TABLES.items():
                        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
                    for name, column in _ADDED_COLUMNS.items():
                        con.execute(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {column}")
                    yield con
                finally:
                    con.close()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _open(self, path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting out another process's lock (a reader during a write)."""
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.02
        while True:
            try:
                return duckdb.connect(path, read_only=read_only)
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or time.monotonic() > deadline:
                    raise CatalogError(f"cannot open catalog {path}: {e}") from e
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def register(self, info: VersionInfo) -> None:
        with self._writer() as con:
            self._register(con, info)
            self._refresh_dataset(con, info.name)

    def sync(self) -> int:
        """Mirror every committed version not yet in the catalog; drop rows of vanished ones.

        Runs before every query, so it lists folders and reads only the new manifests.
        """
        on_disk = {(name, v) for name in self.store.datasets() for v in self.store.version_ids(name)}
        with self._writer() as con:
            known = set(con.execute("SELECT dataset, version FROM versions").fetchall())
            added = sorted(on_disk - known)
            for name, version in added:
                self._register(con, self.store.resolve(Ref(name, version)))
            for dataset, version in known - set(on_disk):
                _delete_version(con, dataset, version)
            for name in {n for n, _ in on_disk} | {n for n, _ in known}:
                self._refresh_dataset(con, name)
        return len(added)

    def rebuild(self) -> int:
        """Recreate the catalog from the manifests alone, swapping it in atomically."""
        tmp = self.path.with_name(f".catalog.{os.getpid()}.rebuild.duckdb")
        tmp.unlink(missing_ok=True)
        count = 0
        with self._writer(tmp) as con:
            for name in self.store.datasets():
                for info in self.store.versions(name):
                    self._register(con, info)
                    count += 1
                self._refresh_dataset(con, name)
            con.execute("CHECKPOINT")
        with open(self.store.root / "catalog.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.replace(tmp, self.path)
            fcntl.flock(lock, fcntl.LOCK_UN)
        return count

    def _register(self, con: duckdb.DuckDBPyConnection, info: VersionInfo) -> None:
        m = info.manifest
        _delete_version(con, info.name, info.version)
        key = (info.name, info.version)
        files = [s for t in m["tables"].values() for s in t["shards"]] + m.get("files", [])
        con.execute(
            "INSERT INTO versions (dataset, version, number, created_at, rows, bytes, blob_rows, code_version, "
            "format_version, schema_version, params, stats, path, kind) "
            "VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                *key,
                info.number,
                m["created_at"],
                info.rows,
                sum(f["bytes"] for f in files),
                m["tables"].get("blobs", {}).get("rows", 0),
                m["code_version"],
                m["format_version"],
                m["schema_version"],
                json.dumps(m["params"]),
                json.dumps(m["stats"]["content"]),
                str(info.path.relative_to(self.store.root)),
                info.kind,
            ],
        )
        shard_rows = [
            (*key, table, s["path"], s["rows"], s["bytes"], s["sha256"])
            for table, entry in m["tables"].items()
            for s in entry["shards"]
        ]
        shard_rows += [(*key, "file", f["path"], None, f["bytes"], f["sha256"]) for f in m.get("files", [])]
        if shard_rows:
            con.executemany("INSERT INTO shards VALUES (?, ?, ?, ?, ?, ?, ?)", shard_rows)
        stats = [
            (*key, col, s["type"], s["null_count"], _text(s.get("min")), _text(s.get("max")))
            for col, s in m["stats"]["columns"].items()
        ]
        con.executemany("INSERT INTO column_stats VALUES (?, ?, ?, ?, ?, ?, ?)", stats)
        edges = [(*key, p["dataset"], p["version"], p["role"]) for p in m["parents"]]
        if edges:
            con.executemany("INSERT INTO lineage VALUES (?, ?, ?, ?, ?)", edges)

    def _refresh_dataset(self, con: duckdb.DuckDBPyConnection, name: str) -> None:
        con.execute("DELETE FROM datasets WHERE name = ?", [name])
        con.execute("DELETE FROM tags WHERE dataset = ?", [name])
        tags = self.store.tags(name)
        if "latest" not in tags:  # no committed version left
            return
        con.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(name, t, v) for t, v in sorted(tags.items())])
        con.execute(
            "INSERT INTO datasets SELECT ?, count(*), ?, min(created_at), max(created_at) FROM versions WHERE dataset = ?",
            [name, tags["latest"], name],
        )

    # ------------------------------------------------------------------ reading

    def query(self, sql: str) -> QueryResult:
        """Run user SQL read-only over the catalog tables and ``"name@ref"`` data views.

        Only SELECT-like statements pass (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN);
        the catalog is attached read-only as a second line of defence.
        """
        con = duckdb.connect(":memory:")
        try:
            try:
                statements = con.extract_statements(sql)
            except duckdb.Error as e:
                raise CatalogError(f"SQL does not parse: {e}") from e
            if not statements:
                raise CatalogError("no SQL statement given")
            for i, statement in enumerate(statements, 1):
                kind = statement.type.name
                if kind not in _READ_ONLY_STATEMENTS:
                    raise CatalogError(
                        f"statement {i} is {kind}: catalog queries are read-only (SELECT, WITH, DESCRIBE, SHOW, "
                        "SUMMARIZE, EXPLAIN). The store changes only through trajforge commands."
                    )
            self.sync()
            self._attach_read_only(con)
            for ref, table in sorted(set(_REF_IDENT.findall(sql))):
                self._create_data_view(con, ref, table or None)
            result = None
            try:
                for statement in statements:
                    result = con.execute(statement.query)
                columns = [d[0] for d in result.description]
                return QueryResult(columns, result.fetchall())
            except duckdb.Error as e:
                raise CatalogError(f"query failed: {e}") from e
        finally:
            con.close()

    def _attach_read_only(self, con: duckdb.DuckDBPyConnection) -> None:
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                con.execute(f"ATTACH '{_quote(str(self.path))}' AS catalog (READ_ONLY)")
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or time.monotonic() > deadline:
                    raise CatalogError(f"cannot open catalog {self.path}: {e}") from e
                time.sleep(0.05)
        for name in _TABLES:
            con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM catalog.main.{name}")

    def _create_data_view(self, con: duckdb.DuckDBPyConnection, ref: str, table: str | None) -> None:
        """``"ref"`` is the version's main table (trajectories, or a corpus's docs), ``"ref:t"`` table t."""
        info = self.store.resolve(Ref.parse(ref))
        paths = ", ".join(f"'{_quote(str(p.resolve()))}'" for p in self.store.shard_paths(info, table))
        name = ref if table is None else f"{ref}:{table}"
        table = table or info.main_table
        if not paths:
            raise CatalogError(f"{info.ref} has no rows in table {table!r}")
        select = "*"
        if table == "trajectories":  # entry lists on disk (readable by `datasets`), MAPs in SQL
            select = "* REPLACE (map_from_entries(scores) AS scores, map_from_entries(step_scores) AS step_scores)"
        con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT {select} FROM read_parquet([{paths}])')


def _delete_version(con: duckdb.DuckDBPyConnection, dataset: str, version: str) -> None:
    for table in ("versions", "shards", "column_stats", "lineage"):
        con.execute(f"DELETE FROM {table} WHERE dataset = ? AND version = ?", [dataset, version])


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
