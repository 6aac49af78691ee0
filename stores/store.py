"""Immutable, versioned Parquet datasets with an atomic commit.

Layout under the store root::

    datasets/<name>/versions/v<N>/manifest.json        the commit record (written last)
                                  data/part-00000.parquet   trajectories, zstd, bounded row groups
                                  blobs/part-00000.parquet  content-addressed images
                                  index/...                 optional (FAISS indexes, ...)
    datasets/<name>/tags.json                           user tags -> version ('latest' is derived)
    datasets/<name>/_staging/<pid>-<uuid>/              work in progress, never read

Commit protocol (the Delta/Lance idea reduced to one rename): every file of a new version is
written and fsynced inside a private staging folder; then, holding the dataset's lock, the
publisher picks the next number, writes the manifest, and renames the folder to ``v<N>``.
A rename is atomic, so a reader sees either no ``v<N>`` or all of it; a crash leaves only a
staging folder, which readers never look at and the next publisher removes. ``latest`` is
computed from the folder names rather than stored, so it can never point at a torn version.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from stores.codeversion import code_version
from stores.docs import DOCS_SCHEMA, docs_stats, validate_docs
from stores.names import LATEST, Ref, check_name, check_tag, version_number
from stores.schema import (
    BLOB_SCHEMA,
    SCHEMA_VERSION,
    TRAJECTORY_SCHEMA,
    validate_blobs,
    validate_table,
)
from stores.stats import table_stats

FORMAT = "trajforge.dataset"
FORMAT_VERSION = "1.0"  # major.minor: readers refuse a newer major, accept any minor
DEFAULT_SHARD_BYTES = 256 * 1024 * 1024  # in-memory Arrow bytes per shard file
DEFAULT_ROW_GROUP_ROWS = 1024  # bounded so nested list columns read back without 2 GiB chunks
BLOB_ROW_GROUP_ROWS = 64


class StoreError(Exception):
    """A store operation failed; the message says what and how to fix it."""


class NotFoundError(StoreError):
    pass


class FormatVersionError(StoreError):
    pass


@dataclass(frozen=True)
class Content:
    """What a version's main table holds: ``trajectories`` (the default) or a ``corpus``
    (documents, with its facts and indexes beside them). Each kind has its own schema check
    and manifest statistics; the commit protocol is the same for all."""

    main: str  # name of the main table (its shards go to data/)
    schema: pa.Schema
    validate: Callable[[pa.Table], None]
    stats: Callable[[pa.Table], dict[str, Any]]


CONTENTS = {
    "trajectories": Content("trajectories", TRAJECTORY_SCHEMA, validate_table, table_stats),
    "corpus": Content("docs", DOCS_SCHEMA, validate_docs, docs_stats),
}
_READ_SCHEMAS = {"trajectories": TRAJECTORY_SCHEMA, "blobs": BLOB_SCHEMA, "docs": DOCS_SCHEMA}


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    path: Path
    manifest: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.version[1:])

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def kind(self) -> str:
        """``trajectories`` or ``corpus`` (manifests written before kinds existed: trajectories)."""
        return self.manifest.get("kind", "trajectories")

    @property
    def main_table(self) -> str:
        return CONTENTS[self.kind].main

    @property
    def rows(self) -> int:
        return self.manifest["tables"][self.main_table]["rows"]


@dataclass(frozen=True)
class Diff:
    added: int
    removed: int
    unchanged: int


def default_root() -> Path:
    return Path(os.environ.get("TRAJFORGE_HOME", "./trajforge-data"))


class Store:
    def __init__(self, root: str | os.PathLike[str] | None = None):
        if root is not None and "://" in str(root):  # checked before Path() folds "//" into "/"
            raise StoreError(
                f"store root {root}: only local folders are supported so far (the commit "
                "relies on an atomic rename and a file lock). Use a local path."
            )
        root = Path(root) if root is not None else default_root()
        if root.exists() and not root.is_dir():
            raise StoreError(
                f"store root {root} is a file, not a folder; point --store or TRAJFORGE_HOME at a folder "
                "(it is created if missing)"
            )
        self.root = root

    # ------------------------------------------------------------------ paths

    def _dataset_dir(self, name: str) -> Path:
        return self.root / "datasets" / check_name(name)

    def _versions_dir(self, name: str) -> Path:
        return self._dataset_dir(name) / "versions"

    # ------------------------------------------------------------------ listing

    def datasets(self) -> list[str]:
        base = self.root / "datasets"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and self._version_numbers(p.name))

    def _version_numbers(self, name: str) -> list[int]:
        vdir = self._versions_dir(name)
        if not vdir.is_dir():
            return []
        numbers = (version_number(p.name) for p in vdir.iterdir())
        return sorted(n for n in numbers if n is not None)

    def version_ids(self, name: str) -> list[str]:
        """Committed versions of ``name`` (``v1``, ``v2``, ...) from a directory listing alone."""
        return [f"v{n}" for n in self._version_numbers(name)]

    def versions(self, name: str) -> list[VersionInfo]:
        numbers = self._version_numbers(name)
        if not numbers:
            raise NotFoundError(f"dataset {name!r} does not exist in {self.root}; known datasets: {self.datasets()}")
        return [self._info(name, f"v{n}") for n in numbers]

    def tags(self, name: str) -> dict[str, str]:
        path = self._dataset_dir(name) / "tags.json"
        tags = json.loads(path.read_text()) if path.exists() else {}
        numbers = self._version_numbers(name)
        if numbers:
            tags[LATEST] = f"v{numbers[-1]}"
        return tags

    def resolve(self, ref: str | Ref) -> VersionInfo:
        ref = Ref.parse(ref) if isinstance(ref, str) else ref
        numbers = self._version_numbers(ref.name)
        if not numbers:
            raise NotFoundError(
                f"dataset {ref.name!r} does not exist in store {self.root}; known datasets: {self.datasets() or 'none'}"
            )
        version = ref.ref if version_number(ref.ref) is not None else self.tags(ref.name).get(ref.ref)
        if version is None or version_number(version) not in numbers:
            raise NotFoundError(
                f"{ref} does not exist: {ref.name} has versions {', '.join(f'v{n}' for n in numbers)} "
                f"and tags {', '.join(sorted(self.tags(ref.name)))}"
            )
        return self._info(ref.name, version)

    def _info(self, name: str, version: str) -> VersionInfo:
        path = self._versions_dir(name) / version
        manifest = json.loads((path / "manifest.json").read_text())
        check_format(manifest, path)
        return VersionInfo(name, version, path, manifest)

    # ------------------------------------------------------------------ reading

    def shard_paths(self, ref: str | Ref | VersionInfo, table: str | None = None) -> list[Path]:
        """The Parquet files of ``table`` (default: the version's main table)."""
        info = ref if isinstance(ref, VersionInfo) else self.resolve(ref)
        table = table or info.main_table
        entry = info.manifest["tables"].get(table)
        if entry is None:
            raise NotFoundError(f"{info.ref} has no table {table!r}; it has {sorted(info.manifest['tables'])}")
        return [info.path / s["path"] for s in entry["shards"]]

    def read(
        self, ref: str | Ref | VersionInfo, columns: list[str] | None = None, table: str | None = None
    ) -> pa.Table:
        """A table of a version (default: its main table, ``trajectories`` or ``docs``)."""
        info = ref if isinstance(ref, VersionInfo) else self.resolve(ref)
        table = table or info.main_table
        schema = _READ_SCHEMAS.get(table)
        paths = self.shard_paths(info, table)
        if not paths:
            if schema is None:
                raise NotFoundError(f"{info.ref} table {table!r} has no rows and no fixed schema")
            empty = schema.empty_table()
            return empty.select(columns) if columns else empty
        try:
            return pq.ParquetDataset([str(p) for p in paths], schema=schema).read(columns=columns)
        except (OSError, pa.ArrowInvalid) as e:
            raise StoreError(f"cannot read {info.ref} ({table}): {e}. Run `trajforge datasets verify {info.ref}`.") from e

    def read_polars(self, ref: str | Ref | VersionInfo, columns: list[str] | None = None) -> pl.DataFrame:
        return pl.from_arrow(self.read(ref, columns))

    def diff(self, a: str | Ref, b: str | Ref) -> Diff:
        ids_a = set(self.read(a, ["id"])["id"].to_pylist())
        ids_b = set(self.read(b, ["id"])["id"].to_pylist())
        return Diff(added=len(ids_b - ids_a), removed=len(ids_a - ids_b), unchanged=len(ids_a & ids_b))

    def verify(self, ref: str | Ref) -> list[str]:
        """Re-hash every file of a version against its manifest; return the problems found."""
        info = self.resolve(ref)
        problems = []
        for entry in _manifest_files(info.manifest):
            path = info.path / entry["path"]
            if not path.is_file():
                problems.append(f"{entry['path']}: missing")
            elif path.stat().st_size != entry["bytes"]:
                problems.append(f"{entry['path']}: size {path.stat().st_size} bytes, manifest says {entry['bytes']}")
            elif _sha256(path) != entry["sha256"]:
                problems.append(f"{entry['path']}: sha256 differs from the manifest (corrupted)")
        return problems

    # ------------------------------------------------------------------ tags

    def tag(self, ref: str | Ref, tag: str) -> VersionInfo:
        info = self.resolve(ref)
        check_tag(tag)
        with self._lock(info.name):
            tags = self._user_tags(info.name)
            tags[tag] = info.version
            self._write_tags(info.name, tags)
        return info

    def untag(self, name: str, tag: str) -> None:
        check_tag(tag)
        with self._lock(name):
            tags = self._user_tags(name)
            if tags.pop(tag, None) is None:
                raise NotFoundError(f"{name} has no tag {tag!r}")
            self._write_tags(name, tags)

    def _user_tags(self, name: str) -> dict[str, str]:
        path = self._dataset_dir(name) / "tags.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _write_tags(self, name: str, tags: dict[str, str]) -> None:
        _atomic_write(self._dataset_dir(name) / "tags.json", json.dumps(tags, indent=2, sort_keys=True).encode())

    # ------------------------------------------------------------------ publishing

    def publish(
        self,
        name: str,
        trajectories: pa.Table,
        *,
        blobs: pa.Table | None = None,
        parents: list[Mapping[str, str]] | None = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, bytes] | None = None,
        tags: list[str] | None = None,
        shard_bytes: int = DEFAULT_SHARD_BYTES,
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
        schema_kind: str = "trajectories",
        tables: Mapping[str, pa.Table] | None = None,
    ) -> VersionInfo:
        """Write a new immutable version of ``name``; return it once committed.

        ``trajectories`` is the main table: trajectory rows, or with ``schema_kind="corpus"``
        the documents of a corpus (:mod:`stores.docs`). ``tables`` are further named tables
        stored as Parquet shards beside it (a corpus's facts and entities).
        ``parents`` are ``{"ref": "name@vN", "role": "..."}`` lineage edges; each must resolve.
        ``files`` are extra artefacts (indexes) stored under the version, hashed in the manifest.
        Everything is checked before the first byte is written, so bad input changes nothing.
        """
        check_name(name)
        for tag in tags or []:
            check_tag(tag)
        content = CONTENTS.get(schema_kind)
        if content is None:
            raise StoreError(f"unknown schema_kind {schema_kind!r}; a version holds one of {sorted(CONTENTS)}")
        content.validate(trajectories)
        if blobs is not None and schema_kind != "trajectories":
            raise StoreError(f"blobs belong to trajectory versions, not to a {schema_kind} version")
        blobs = BLOB_SCHEMA.empty_table() if blobs is None else blobs
        validate_blobs(blobs)
        extra_tables = dict(tables or {})
        for table_name in extra_tables:
            check_name(table_name, "table name")
            if table_name in (content.main, "blobs", "data", "index", "retrieval"):
                raise StoreError(f"table name {table_name!r} is reserved; name extra tables otherwise")
        edges = [self._parent_edge(p) for p in parents or []]
        params = dict(params or {})
        try:
            params_json = json.loads(json.dumps(params, sort_keys=True, allow_nan=False))
        except (TypeError, ValueError) as e:
            raise StoreError(f"publish params must be JSON-serialisable: {e}") from e
        for rel in files or {}:
            reserved = ("/", "data/", "blobs/", *(f"{t}/" for t in extra_tables))
            if rel.startswith(reserved) or ".." in rel or rel == "manifest.json":
                raise StoreError(f"extra file path {rel!r} must be relative and outside data/, blobs/, "
                                 "the extra tables' folders and manifest.json")
        if shard_bytes <= 0 or row_group_rows <= 0:
            raise StoreError("shard_bytes and row_group_rows must be positive")

        dataset_dir = self._dataset_dir(name)
        staging = dataset_dir / "_staging" / f"{os.getpid()}-{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        self._clean_staging(name, keep=staging)
        try:
            tables = {content.main: _write_shards(staging, "data", trajectories, shard_bytes, row_group_rows)}
            if schema_kind == "trajectories":
                tables["blobs"] = _write_shards(staging, "blobs", blobs, shard_bytes, BLOB_ROW_GROUP_ROWS)
            for table_name, table in sorted(extra_tables.items()):
                tables[table_name] = _write_shards(staging, table_name, table, shard_bytes, row_group_rows)
            extra = []
            for rel, data in sorted((files or {}).items()):
                extra.append(_write_file(staging / rel, data, rel))
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "schema_version": SCHEMA_VERSION,
                "kind": schema_kind,
                "dataset": name,
                "version": None,  # set under the lock
                "created_at": datetime.now(UTC).isoformat(),
                "code_version": code_version(),
                "schema": {f.name: str(f.type) for f in content.schema},
                "tables": tables,
                "files": extra,
                "stats": content.stats(trajectories),
                "parents": edges,
                "params": params_json,
                "tags": sorted(tags or []),
            }
            with self._lock(name):
                versions_dir = self._versions_dir(name)
                versions_dir.mkdir(exist_ok=True)
                number = max(self._version_numbers(name), default=0) + 1
                while True:  # the lock makes one pass enough; the loop guards a foreign writer
                    manifest["version"] = f"v{number}"
                    _write_file(staging / "manifest.json", json.dumps(manifest, indent=2).encode(), "manifest.json")
                    _fsync_dir(staging)
                    try:
                        os.rename(staging, versions_dir / f"v{number}")
                        break
                    except OSError:
                        if not (versions_dir / f"v{number}").exists():
                            raise
                        number += 1
                _fsync_dir(versions_dir)
                if tags:
                    user_tags = self._user_tags(name)
                    user_tags.update({t: f"v{number}" for t in tags})
                    self._write_tags(name, user_tags)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self._info(name, f"v{number}")

    def _parent_edge(self, parent: Mapping[str, str]) -> dict[str, str]:
        info = self.resolve(parent["ref"])
        return {"dataset": info.name, "version": info.version, "role": parent.get("role", "parent")}

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        path = self._dataset_dir(name)
        path.mkdir(parents=True, exist_ok=True)
        with open(path / ".lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _clean_staging(self, name: str, keep: Path) -> None:
        """Remove staging folders whose publisher process is gone (crash leftovers)."""
        for path in (self._dataset_dir(name) / "_staging").iterdir():
            pid = path.name.split("-", 1)[0]
            if path != keep and pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def check_format(manifest: Mapping[str, Any], where: Path | str) -> None:
    if manifest.get("format") != FORMAT:
        raise FormatVersionError(f"{where}: not a trajforge dataset manifest (format={manifest.get('format')!r})")
    major = int(str(manifest.get("format_version", "0")).split(".")[0])
    if major > int(FORMAT_VERSION.split(".")[0]):
        raise FormatVersionError(
            f"{where} was written in dataset format {manifest['format_version']}, newer than this trajforge "
            f"reads ({FORMAT_VERSION}); upgrade trajforge to read it"
        )


def _manifest_files(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for t in manifest["tables"].values() for s in t["shards"]] + list(manifest.get("files", []))


def _write_shards(staging: Path, folder: str, table: pa.Table, shard_bytes: int, row_group_rows: int) -> dict[str, Any]:
    (staging / folder).mkdir()
    rows_per_shard = max(1, int(shard_bytes // max(1, table.nbytes / max(1, table.num_rows))))
    shards = []
    for i, start in enumerate(range(0, table.num_rows, rows_per_shard)):
        rel = f"{folder}/part-{i:05d}.parquet"
        chunk = table.slice(start, rows_per_shard)
        pq.write_table(chunk, staging / rel, compression="zstd", row_group_size=row_group_rows)
        shards.append({**_durable(staging / rel, rel), "rows": chunk.num_rows})
    return {"rows": table.num_rows, "shards": shards}


def _write_file(path: Path, data: bytes, rel: str) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _durable(path, rel)


def _durable(path: Path, rel: str) -> dict[str, Any]:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return {"path": rel, "bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
