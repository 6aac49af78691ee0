"""The DuckDB catalog: every dataset, version, shard, stat, lineage edge and tag, for SQL.

The manifests in the store are the source of truth; ``catalog.duckdb`` is a mirror for SQL
(ours, and a notebook's ``duckdb.connect(..., read_only=True)``). DuckDB lets one process
open a file read-write and then no other process may open it at all, so:

- **Writers never open the live file read-write.** A write command (publish, tag, rebuild)
  copies it, updates the copy and renames the copy over it, behind ``catalog.lock``. An
  outside reader keeps the snapshot it opened and is never blocked, broken or blocking.
- **Reads never write.** A query attaches the live file read-only, after a cheap check
  (folder listing and tags) that it mirrors the store; if it does not (missing, stale, an
  older layout, locked by someone else's writer), the query builds the same tables in memory
  from the manifests. No lock file, no sync, no wait: a read works on a read-only store and
  on a full disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from catalog.sql import (
    QueryError,
    Stream,
    check_read_only,
    lock_down,
    one_paragraph,
    quote,
    run_guarded,
)
from stores.names import Ref
from stores.store import BrokenVersion, Store, StoreError, VersionInfo, fsync_path

FORMAT = "2"  # of the catalog file's tables; a file of another format is rebuilt, never migrated
_TABLES = {
    "datasets": "name VARCHAR PRIMARY KEY, versions INTEGER, latest VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ",
    "versions": (
        "dataset VARCHAR, version VARCHAR, number INTEGER, created_at TIMESTAMPTZ, rows BIGINT, bytes BIGINT, "
        "blob_rows BIGINT, code_version VARCHAR, format_version VARCHAR, schema_version INTEGER, params JSON, "
        "stats JSON, path VARCHAR, kind VARCHAR, manifest_sha256 VARCHAR, PRIMARY KEY (dataset, version)"
    ),
    "shards": "dataset VARCHAR, version VARCHAR, table_name VARCHAR, path VARCHAR, rows BIGINT, bytes BIGINT, sha256 VARCHAR",
    "column_stats": (
        "dataset VARCHAR, version VARCHAR, column_name VARCHAR, type VARCHAR, null_count BIGINT, "
        "min_value VARCHAR, max_value VARCHAR"
    ),
    "lineage": (
        "dataset VARCHAR, version VARCHAR, parent_dataset VARCHAR, parent_version VARCHAR, role VARCHAR, "
        "parent_manifest_sha256 VARCHAR"
    ),
    "tags": "dataset VARCHAR, tag VARCHAR, version VARCHAR",
    # what could not be mirrored: a version whose manifest is unreadable, a damaged tags.json
    "problems": "dataset VARCHAR, version VARCHAR, problem VARCHAR",
}
DEFAULT_TIMEOUT_S = 300.0
# "name@ref" or "name@ref:table" (blobs; a corpus's facts, entities) as a quoted identifier in user SQL
_REF_IDENT = re.compile(r'"([A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9._-]+)(?::([A-Za-z0-9][A-Za-z0-9_-]*))?"')


class CatalogError(Exception):
    pass


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool = False  # the row limit stopped the result with rows left


class Catalog:
    def __init__(self, store: Store, lock_timeout_s: float = 60.0):
        self.store = store
        self.path = store.root / "catalog.duckdb"
        self.lock_timeout_s = lock_timeout_s

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _writer(self, from_scratch: bool = False) -> Iterator[tuple[duckdb.DuckDBPyConnection, bool]]:
        """A read-write connection to a private copy of the catalog, swapped in on success,
        and whether the copy is a new, empty catalog (none yet, another format, damaged or
        ``from_scratch``) that the caller fills from the manifests."""
        self.store.root.mkdir(parents=True, exist_ok=True)
        with self._lock():
            tmp = self.store.root / f".catalog.{os.getpid()}.{uuid.uuid4().hex[:8]}.duckdb"
            try:
                con = None
                if not from_scratch and self.path.is_file():
                    shutil.copyfile(self.path, tmp)
                    try:
                        con = duckdb.connect(str(tmp))
                        if _format(con) != FORMAT:
                            con.close()
                            con = None
                    except duckdb.Error:  # a damaged copy: start again from the manifests
                        con = None
                created = con is None
                if created:
                    tmp.unlink(missing_ok=True)
                    con = duckdb.connect(str(tmp))
                    _create(con)
                try:
                    yield con, created
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
                fsync_path(tmp)
                os.replace(tmp, self.path)
                fsync_path(self.store.root)
            except duckdb.Error as e:
                raise CatalogError(f"cannot update the catalog {self.path}: {one_paragraph(str(e))}") from e
            finally:
                tmp.unlink(missing_ok=True)
                Path(f"{tmp}.wal").unlink(missing_ok=True)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise trajforge's catalog writers (each holds it for milliseconds to seconds)."""
        with open(self.store.root / "catalog.lock", "a+b") as fh:
            deadline = time.monotonic() + self.lock_timeout_s
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise CatalogError(
                            f"another trajforge command has held {self.store.root / 'catalog.lock'} for over "
                            f"{self.lock_timeout_s:g} s; wait for it and retry"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def sync(self) -> int:
        """Mirror every committed version not yet in the catalog; drop rows of vanished ones;
        returns how many were added.

        Write commands call it after they change the store (publish, ``datasets tag``), so a
        corpus that a prepare stage published is mirrored with the version that names it; reads
        never do (module doc). It lists folders and reads only the new manifests."""
        with self._writer() as (con, created):
            on_disk = {(name, v) for name in self.store.datasets() for v in self.store.version_ids(name)}
            if created:
                self._fill(con)
                return len(on_disk)
            known = set(con.execute("SELECT dataset, version FROM versions UNION SELECT dataset, version "
                                    "FROM problems WHERE version IS NOT NULL").fetchall())
            added = sorted(on_disk - known)
            for name, version in added:
                self._mirror(con, self.store.scan_one(name, version))
            for dataset, version in known - on_disk:
                _delete_version(con, dataset, version)
            for name in {n for n, _ in on_disk} | {n for n, _ in known}:
                self._refresh_dataset(con, name)
        return len(added)

    def rebuild(self) -> int:
        """Recreate the catalog from the manifests, swapping it in atomically.

        The manifest digests the old catalog recorded are kept: a manifest changed since its
        version was registered keeps its old digest (so ``datasets verify`` still catches it)
        and is listed in ``problems``, instead of being laundered by the rebuild."""
        recorded = self._recorded_digests()
        with self._writer(from_scratch=True) as (con, _):
            self._fill(con, recorded)
            return con.execute("SELECT count(*) FROM versions").fetchone()[0]

    def _fill(self, con: duckdb.DuckDBPyConnection, recorded: dict[tuple[str, str], str] | None = None) -> None:
        for name in self.store.datasets():
            for found in self.store.scan(name):
                self._mirror(con, found, (recorded or {}).get((found.name, found.version)))
            self._refresh_dataset(con, name)

    def _mirror(self, con: duckdb.DuckDBPyConnection, found: VersionInfo | BrokenVersion,
                recorded: str | None = None) -> None:
        """Register one version, or record why it cannot be read."""
        _delete_version(con, found.name, found.version)
        if isinstance(found, BrokenVersion):
            con.execute("INSERT INTO problems VALUES (?, ?, ?)", [found.name, found.version, found.error])
            return
        self._register(con, found, recorded)
        if recorded is not None and recorded != found.manifest_sha256:
            con.execute("INSERT INTO problems VALUES (?, ?, ?)", [
                found.name, found.version,
                f"manifest.json changed since the version was registered (sha256 {recorded[:12]}... then, "
                f"{found.manifest_sha256[:12]}... now); run `trajforge datasets verify {found.ref}`"])

    def _register(self, con: duckdb.DuckDBPyConnection, info: VersionInfo, recorded: str | None = None) -> None:
        m = info.manifest
        _delete_version(con, info.name, info.version)
        key = (info.name, info.version)
        files = [s for t in m["tables"].values() for s in t["shards"]] + m.get("files", [])
        con.execute(
            "INSERT INTO versions (dataset, version, number, created_at, rows, bytes, blob_rows, code_version, "
            "format_version, schema_version, params, stats, path, kind, manifest_sha256) "
            "VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                json.dumps(m["stats"].get("content", {})),
                str(info.path.relative_to(self.store.root)),
                info.kind,
                recorded or info.manifest_sha256,
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
            (*key, col, s.get("type"), s.get("null_count"), _text(s.get("min")), _text(s.get("max")))
            for col, s in m["stats"].get("columns", {}).items()
        ]
        if stats:
            con.executemany("INSERT INTO column_stats VALUES (?, ?, ?, ?, ?, ?, ?)", stats)
        edges = [(*key, p["dataset"], p["version"], p.get("role"), p.get("manifest_sha256")) for p in m["parents"]]
        if edges:
            con.executemany("INSERT INTO lineage VALUES (?, ?, ?, ?, ?, ?)", edges)

    def _refresh_dataset(self, con: duckdb.DuckDBPyConnection, name: str) -> None:
        con.execute("DELETE FROM datasets WHERE name = ?", [name])
        con.execute("DELETE FROM tags WHERE dataset = ?", [name])
        con.execute("DELETE FROM problems WHERE dataset = ? AND version IS NULL", [name])
        try:
            tags = self.store.tags(name)
        except StoreError as e:
            con.execute("INSERT INTO problems VALUES (?, NULL, ?)", [name, str(e)])
            tags = {"latest": v} if (v := (self.store.version_ids(name) or [None])[-1]) else {}
        if "latest" not in tags:  # no committed version left
            return
        con.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(name, t, v) for t, v in sorted(tags.items())])
        con.execute(
            "INSERT INTO datasets SELECT ?, count(*), ?, min(created_at), max(created_at) FROM versions WHERE dataset = ?",
            [name, tags["latest"], name],
        )

    # ------------------------------------------------------------------ reading

    def query(self, sql: str, limit: int | None = None, timeout_s: float | None = DEFAULT_TIMEOUT_S) -> QueryResult:
        """Run user SQL read-only over the catalog tables and ``"name@ref"`` data views.

        At most ``limit`` rows are fetched (``truncated`` tells whether more were left); the
        query is interrupted after ``timeout_s``. See :mod:`catalog.sql` for the guards."""
        with self.stream(sql, limit, timeout_s) as rows:
            fetched = [r for batch in rows.batches() for r in batch]
            return QueryResult(rows.columns, fetched, rows.truncated)

    @contextlib.contextmanager
    def stream(self, sql: str, limit: int | None = None,
               timeout_s: float | None = DEFAULT_TIMEOUT_S) -> Iterator[Stream]:
        """Like :meth:`query`, with the rows streamed in batches (``stream.batches()``)."""
        temp_dir = tempfile.mkdtemp(prefix="trajforge-query-")
        con = duckdb.connect(":memory:", config={"autoload_known_extensions": False,
                                                   "autoinstall_known_extensions": False})
        try:
            try:
                statements = check_read_only(con, sql)
                self._attach_snapshot(con)
                allowed = []
                for ref, table in sorted(set(_REF_IDENT.findall(sql))):
                    allowed += self._create_data_view(con, ref, table or None)
                lock_down(con, allowed, temp_dir)
                result = run_guarded(con, statements, limit, timeout_s)
            except QueryError as e:
                raise CatalogError(str(e)) from None
            except duckdb.Error as e:
                raise CatalogError(f"query failed: {one_paragraph(str(e))}") from None
            try:
                yield result
            except QueryError as e:
                raise CatalogError(str(e)) from None
            finally:
                result.close()
        finally:
            con.close()
            shutil.rmtree(temp_dir, ignore_errors=True)

    def _attach_snapshot(self, con: duckdb.DuckDBPyConnection) -> None:
        """The catalog tables as ``catalog.main.*`` plus temp views by their plain names."""
        attached = False
        if self.path.is_file():
            try:
                con.execute(f"ATTACH {quote(str(self.path))} AS catalog (READ_ONLY)")
                attached = True
                if not self._mirrors_store(con):
                    con.execute("DETACH catalog")
                    attached = False
            except (duckdb.Error, StoreError):
                if attached:
                    con.execute("DETACH catalog")
                attached = False
        if not attached:  # build the same tables in memory, from the manifests (no write anywhere)
            con.execute("ATTACH ':memory:' AS catalog")
            con.execute("USE catalog")
            _create(con)
            self._fill(con)
            con.execute("USE memory")
        for name in _TABLES:
            con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM catalog.main.{name}")

    def _mirrors_store(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether the attached file holds exactly the store's versions and tags (a listing and
        the tags files: no manifest is read)."""
        if _format(con, "catalog") != FORMAT:
            return False
        known = set(con.execute("SELECT dataset, version FROM catalog.main.versions UNION SELECT dataset, version "
                                "FROM catalog.main.problems WHERE version IS NOT NULL").fetchall())
        names = self.store.datasets()
        if known != {(n, v) for n in names for v in self.store.version_ids(n)}:
            return False
        tags = set(con.execute("SELECT dataset, tag, version FROM catalog.main.tags").fetchall())
        return tags == {(n, t, v) for n in names for t, v in self.store.tags(n).items()}

    def _create_data_view(self, con: duckdb.DuckDBPyConnection, ref: str, table: str | None) -> list[str]:
        """``"ref"`` is the version's main table (trajectories, or a corpus's docs), ``"ref:t"``
        table t, over the shard files checked against the manifest; returns those files."""
        try:
            info = self.store.resolve(Ref.parse(ref))
            files = [str(p.resolve()) for p in self.store.shard_paths(info, table)]
        except StoreError as e:
            raise CatalogError(str(e)) from None
        name = ref if table is None else f"{ref}:{table}"
        table = table or info.main_table
        if not files:
            raise CatalogError(f"{info.ref} has no rows in table {table!r}")
        select = "*"
        if table == "trajectories":  # entry lists on disk (readable by `datasets`), MAPs in SQL
            select = "* REPLACE (map_from_entries(scores) AS scores, map_from_entries(step_scores) AS step_scores)"
        paths = ", ".join(quote(p) for p in files)
        con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT {select} FROM read_parquet([{paths}])')
        return files

    def recorded_digest(self, name: str, version: str) -> str | None:
        """The manifest sha256 the catalog file recorded for a version (None if it has none);
        read-only, like every read."""
        return self._recorded_digests().get((name, version))

    def _recorded_digests(self) -> dict[tuple[str, str], str]:
        if not self.path.is_file():
            return {}
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error:
            return {}
        try:
            if _format(con) != FORMAT:
                return {}
            rows = con.execute("SELECT dataset, version, manifest_sha256 FROM versions").fetchall()
            return {(d, v): h for d, v, h in rows if h}
        finally:
            con.close()


def verify_version(store: Store, ref: str | Ref) -> list[str]:
    """:meth:`Store.verify`, plus the manifest's digest against the one the catalog recorded."""
    info = store.resolve(ref)
    problems = store.verify(info.ref)
    recorded = Catalog(store).recorded_digest(info.name, info.version)
    if recorded is not None and recorded != info.manifest_sha256:
        problems.append(
            f"manifest.json: its sha256 {info.manifest_sha256[:12]}... differs from the {recorded[:12]}... the "
            "catalog recorded when the version was registered (the manifest was changed after the commit)"
        )
    return problems


def _create(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in _TABLES.items():
        con.execute(f"CREATE TABLE {name} ({columns})")
    con.execute("CREATE TABLE catalog_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO catalog_meta VALUES ('format', ?)", [FORMAT])


def _format(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str | None:
    """The catalog format of a connection's own file (``database=None``) or of an attached one."""
    table = "catalog_meta" if database is None else f"{database}.main.catalog_meta"
    try:
        row = con.execute(f"SELECT value FROM {table} WHERE key = 'format'").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _delete_version(con: duckdb.DuckDBPyConnection, dataset: str, version: str) -> None:
    for table in ("versions", "shards", "column_stats", "lineage", "problems"):
        con.execute(f"DELETE FROM {table} WHERE dataset = ? AND version = ?", [dataset, version])


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
